"""KPI queries over a long history: the personal dashboard and the team view on 1M events.

    .venv/bin/python benchmarks/bench_kpi_queries.py [--events 1000000] [--backend sqlite|postgresql|both]
        [--people 20] [--tasks-per-person 20] [--days 30] [--queries 60] [--json OUT]

For each backend a fresh database (a SQLite file in a temporary folder, or a throwaway PostgreSQL
database on 127.0.0.1:5432, dropped at the end) gets the history of ``kpi_history``. Then:

1. the first read builds the rollups from the whole event log (timed once: what a new installation
   or a changed idle threshold costs);
2. ``--queries`` rounds on a clock that moves 10 s a round: 20 new events of random annotators are
   written (a live team), then the team view (``project_kpis`` as the manager) and a personal
   dashboard (``my_kpis`` as a random annotator) are read, each in its own transaction, exactly as
   the API routes call them; every third round rolls up the events that settled meanwhile;
3. for contrast, the KPIs computed by scanning every event (``summarise_events``), once.

The target (issue 7) is p95 under 100 ms for both reads on both backends.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from kpi_history import History, make_history
from labelpilot.kpi.records import ActivityEvent
from labelpilot.kpi.summary import summarise_events
from labelpilot.services import kpi_reports
from labelpilot.services.accounts import actor_of
from labelpilot.store.blobs import BlobStore
from labelpilot.store.db import make_engine, make_session_factory
from labelpilot.store.kpi_tables import KpiActionTime, KpiClassTime, KpiDay, KpiTaskTime
from labelpilot.store.migrate import upgrade
from labelpilot.store.tables import EventRow, User
from server_process import postgres_reachable, throwaway_postgres

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample" / "kitti-tracking"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
IDLE = 120.0
ROUND = timedelta(seconds=10)
NEW_EVENTS_PER_ROUND = 20
console = Console()


def _ms(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def _timed(db: sessionmaker[Session], read: Callable[[Session], Any]) -> float:
    start = time.perf_counter()
    with db.begin() as s:
        read(s)
    return time.perf_counter() - start


def _live_events(db: sessionmaker[Session], history: History, rng: random.Random, since: datetime) -> None:
    rows = []
    for n in range(NEW_EVENTS_PER_ROUND):
        user_id = rng.choice(history.annotator_ids)
        task_id = history.tasks[user_id][-1]
        rows.append(
            {
                "at": since + ROUND * (n + 1) / NEW_EVENTS_PER_ROUND,
                "user_id": user_id,
                "project_id": history.project_id,
                "task_id": task_id,
                "track_id": rng.choice(history.tracks[task_id]),
                "kind": "keyframe_set",
                "payload": {},
            }
        )
    with db.begin() as s:
        s.execute(insert(EventRow), rows)


def _scan_seconds(db: sessionmaker[Session], project_id: int, now: datetime) -> float:
    start = time.perf_counter()
    with db.begin() as s:
        rows = s.execute(
            select(EventRow.at, EventRow.user_id, EventRow.kind, EventRow.task_id).where(
                EventRow.project_id == project_id, EventRow.user_id.is_not(None)
            )
        ).all()
        events = [ActivityEvent(at.replace(tzinfo=UTC), user, kind, task) for at, user, kind, task in rows]
    summarise_events(events, [], idle_seconds=IDLE, hourly_cost_eur=25.0, now=now)
    return time.perf_counter() - start


def run(url: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)
    db = make_session_factory(engine)
    blobs = BlobStore((workdir / "blobs").as_uri())
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    history = make_history(
        db, blobs, SAMPLE, people=args.people, tasks_per_person=args.tasks_per_person,
        events=args.events, days=args.days, end=now - timedelta(minutes=5), idle_seconds=IDLE,
    )  # fmt: skip
    setup_s = time.perf_counter() - started
    with db.begin() as s:
        manager = actor_of(s.get_one(User, history.manager_id))
        annotators = [actor_of(s.get_one(User, u)) for u in history.annotator_ids]
        events = s.scalar(select(func.count()).select_from(EventRow))
    build_s = _timed(
        db, lambda s: kpi_reports.project_kpis(s, manager, history.project_id, idle_seconds=IDLE, now=now)
    )
    rng = random.Random(3)
    team_s: list[float] = []
    mine_s: list[float] = []
    for _ in range(args.queries):
        _live_events(db, history, rng, now)
        now += ROUND
        reading = {"project_id": history.project_id, "idle_seconds": IDLE, "now": now}
        team_s.append(_timed(db, partial(kpi_reports.project_kpis, actor=manager, **reading)))
        mine_s.append(_timed(db, partial(kpi_reports.my_kpis, actor=rng.choice(annotators), **reading)))
    with db.begin() as s:
        rollup_rows = sum(
            s.scalar(select(func.count()).select_from(table)) or 0
            for table in (KpiDay, KpiClassTime, KpiActionTime, KpiTaskTime)
        )
    scan_s = _scan_seconds(db, history.project_id, now)
    engine.dispose()
    return {
        "events": events,
        "people": args.people,
        "tasks": args.people * args.tasks_per_person,
        "rollup_rows": rollup_rows,
        "setup_s": round(setup_s, 1),
        "first_read_builds_rollups_s": round(build_s, 2),
        "team_view": _ms(team_s),
        "personal": _ms(mine_s),
        "full_scan_s": round(scan_s, 2),
    }


@contextmanager
def _database(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'kpi.db'}"
    else:
        with throwaway_postgres(PG_ADMIN) as url:
            yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=20)
    parser.add_argument("--tasks-per-person", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: dict[str, Any] = {}
    for backend in backends:
        if backend == "postgresql" and (why := postgres_reachable(PG_ADMIN)) is not None:
            console.print(f"[yellow]PostgreSQL skipped: {why}")
            continue
        with tempfile.TemporaryDirectory() as tmp, _database(backend, Path(tmp)) as url:
            console.print(f"{backend}: setting up {args.events:,} events ...")
            results[backend] = run(url, args, Path(tmp))
    table = Table(title="KPI reads over a long history", title_justify="left")
    for column in (
        "backend",
        "events",
        "rollup rows",
        "build s",
        "team p50/p95 ms",
        "personal p50/p95 ms",
        "scan s",
    ):
        table.add_column(column)
    for backend, r in results.items():
        table.add_row(
            backend, f"{r['events']:,}", f"{r['rollup_rows']:,}", str(r["first_read_builds_rollups_s"]),
            f"{r['team_view']['p50_ms']} / {r['team_view']['p95_ms']}",
            f"{r['personal']['p50_ms']} / {r['personal']['p95_ms']}", str(r["full_scan_s"]),
        )  # fmt: skip
    console.print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
