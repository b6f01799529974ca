"""Timing of the API server on real data: the lidar frame endpoint and track edits, SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_server.py [--data-dir DIR] [--backend sqlite|postgresql|both] [--json OUT]

For each backend, a fresh database (a SQLite file in a temporary home, or a throwaway PostgreSQL
database on 127.0.0.1:5432, dropped at the end) is set up through the services (server_setup), then
the real app runs under uvicorn in a subprocess on a free loopback port (server_app, server_process)
and is driven over HTTP with httpx and personal API tokens:

1. frames: GET /api/scenes/{id}/frames/{i}/lidar over every sweep of the KITTI odometry demo drive
   (~120k points each), ``--frame-rounds`` passes after a warm-up pass; bytes per answer; the
   ratio to reading the source sweep locally (the original PCD in ../shared/data when present, else
   the bundled .npz, decoded to points) and to reading the stored blob file; a 304 revalidation.
2. sequential edits: ``--edits`` PUT /api/tracks/{id}/keyframes/{frame} with the right
   expected_version, one after another, by an annotator through their task.
3. concurrent edits: ``--clients`` clients at once (asyncio, an httpx.AsyncClient with one connection
   each), each on its own confirmed track, ``--per-client`` edits each; first every client with its
   own annotator's token and task, then all with one shared token. Any non-2xx counts as an error.

Each concurrent run gets a fresh server process and ends after ``--deadline-s`` (edits not done by
then count as errors). Afterwards every edited track's stored version is checked against the edits
answered 200. ``--server-threads`` sizes the server's worker thread pool (anyio's default is 40),
``--keep-logs DIR`` keeps the server logs. Everything started (server, database, temporary
directory) is stopped or removed on any exit, SIGTERM and Ctrl-C included.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import Engine, select

from labelpilot.store.blobs import BlobStore
from labelpilot.store.db import make_engine, make_session_factory
from labelpilot.store.migrate import upgrade
from labelpilot.store.tables import TrackRow
from server_measure import EditRun, concurrent_edits, measure_frames, sequential_edits
from server_process import (
    exception_summary,
    postgres_reachable,
    raise_on_sigterm,
    running_server,
    server_env,
    throwaway_postgres,
)
from server_reads import local_reads
from server_report import print_report
from server_setup import BenchData, EditTrack, prepare

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO / "data" / "sample"
SHARED_CLOUDS = REPO.parent / "shared" / "data" / "kitti-odometry-00" / "clouds"
DEFAULT_PG_ADMIN_URL = os.environ.get(
    "LABELPILOT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def database(backend: str, home: Path, pg_admin_url: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{home / 'labelpilot.db'}"
        return
    with throwaway_postgres(pg_admin_url) as url:
        yield url


@contextmanager
def disposing(engine: Engine) -> Iterator[Engine]:
    try:
        yield engine
    finally:
        engine.dispose()


def version_check(engine: Engine, tracks: list[EditTrack]) -> dict[str, int]:
    """Compare every edited track's stored version with the confirmed one plus the edits answered 200.

    ``lost``: fewer versions stored than edits answered 200 (an acknowledged edit is missing);
    ``unacknowledged``: more (an edit was stored whose answer the client never got, e.g. cut off).
    """
    factory = make_session_factory(engine)
    with factory() as s:
        stored = {row.id: row.version for row in s.execute(select(TrackRow.id, TrackRow.version))}
    expected = {t.track_id: t.confirmed_version + t.answered_ok for t in tracks}
    return {
        "lost": sum(1 for tid, version in expected.items() if stored[tid] < version),
        "unacknowledged": sum(1 for tid, version in expected.items() if stored[tid] > version),
    }


def _edit_json(run: EditRun) -> dict[str, Any]:
    return {**dataclasses.asdict(run), "edits_per_s": run.edits_per_s}


def _life_summary(tracks: list[EditTrack]) -> dict[str, int]:
    lives = sorted(t.life for t in tracks)
    return {"min": lives[0], "median": lives[len(lives) // 2], "max": lives[-1]}


def measure(
    backend: str, args: argparse.Namespace, data: BenchData, env: dict[str, str], log: Path, console: Console
) -> dict[str, Any]:
    """The scenarios, each concurrent one on a fresh server process so that one's backlog cannot spill over."""
    result: dict[str, Any] = {}
    server_args = ["--threads", str(args.server_threads)] if args.server_threads else []
    concurrent_tracks, sequential_track = data.tracks[: args.clients], data.tracks[args.clients]
    with running_server(env, log, server_args) as base_url:
        console.log(f"[{backend}] server up at {base_url}; frame endpoint")
        frames = measure_frames(
            base_url, data.admin_token, data.odometry_scene_id, data.odometry_frames, args.frame_rounds
        )
        result["frames"] = dataclasses.asdict(frames)
        console.log(f"[{backend}] {args.edits} sequential edits")
        result["sequential"] = _edit_json(sequential_edits(base_url, sequential_track, args.edits))
    result["sequential"]["track_life_frames"] = sequential_track.life
    shared = (data.shared_token, data.shared_task_id)
    for key, login, what in [
        ("concurrent_own_tokens", None, "own tokens"),
        ("concurrent_one_token", shared, "one token"),
    ]:
        with running_server(env, log, server_args) as base_url:
            console.log(f"[{backend}] {args.clients} clients x {args.per_client} edits at once, {what}")
            run = concurrent_edits(base_url, concurrent_tracks, args.per_client, args.deadline_s, login)
            result[key] = {**_edit_json(run), "track_life_frames": _life_summary(concurrent_tracks)}
    return result


def run_backend(backend: str, args: argparse.Namespace, console: Console) -> dict[str, Any]:
    with ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="labelpilot-bench-")))
        url = stack.enter_context(database(backend, home, args.pg_admin_url))
        engine = stack.enter_context(disposing(make_engine(url)))
        upgrade(engine)
        blob_root = home / "blobs"
        console.log(f"[{backend}] importing scenes and preparing {args.clients + 1} tracks")
        factory = make_session_factory(engine)
        data = prepare(factory, BlobStore(str(blob_root)), args.data_dir, args.clients, args.clients + 1)
        engine.dispose()  # the server gets the database to itself while it is measured
        env = server_env(home, url, blob_root)
        log = home / "server.log"
        result = measure(backend, args, data, env, log, console)
        result["versions"] = version_check(engine, data.tracks)
        result["server_exceptions"] = exception_summary(log)
        if args.keep_logs:
            args.keep_logs.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, args.keep_logs / f"server-{backend}.log")
        result["local_reads"] = local_reads(
            args.data_dir,
            SHARED_CLOUDS,
            blob_root,
            data.odometry_scene_id,
            data.odometry_frames,
            args.frame_rounds,
        )
        return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--json", type=Path, default=None, help="write the results here as JSON")
    parser.add_argument("--frame-rounds", type=int, default=5, help="passes over all frames")
    parser.add_argument("--edits", type=int, default=200, help="sequential edits")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients, one track each")
    parser.add_argument("--per-client", type=int, default=20, help="edits per concurrent client")
    parser.add_argument(
        "--deadline-s",
        type=float,
        default=240.0,
        help="stop a concurrent run after this long (edits not done count as errors)",
    )
    parser.add_argument(
        "--server-threads", type=int, default=None, help="the server's worker threads (default: anyio's 40)"
    )
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    parser.add_argument(
        "--keep-logs", type=Path, default=None, help="copy the server logs into this directory"
    )
    args = parser.parse_args()
    for name in ("frame_rounds", "edits", "clients", "per_client", "deadline_s"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.server_threads is not None and args.server_threads < 1:
        parser.error("--server-threads must be at least 1")
    raise_on_sigterm()
    console = Console()
    if not console.is_terminal:
        console = Console(width=170)  # a pipe or a log file: keep the tables' columns readable
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": list(os.getloadavg())},
        "parameters": {
            k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "pg_admin_url"
        },
        "backends": {},
    }
    for backend in backends:
        if backend == "postgresql" and (reason := postgres_reachable(args.pg_admin_url)):
            console.print(f"[yellow]skipping PostgreSQL: {reason}[/yellow]")
            report["backends"][backend] = {"skipped": reason}
            continue
        report["backends"][backend] = run_backend(backend, args, console)
        report["machine"]["load_average_at_end"] = list(os.getloadavg())
        if args.json:  # after each backend, so that a later failure keeps what was measured
            args.json.write_text(json.dumps(report, indent=2) + "\n")
    report["machine"]["load_average_at_end"] = list(os.getloadavg())
    print_report(console, report)
    if args.json:
        console.print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
