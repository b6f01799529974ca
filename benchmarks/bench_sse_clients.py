"""Live KPIs at scale: ``--clients`` open KPI streams, and how fast one edit's update reaches all of them.

    .venv/bin/python benchmarks/bench_sse_clients.py [--clients 200] [--rounds 10]
        [--database sqlite|postgresql] [--json OUT]

A fresh database (a SQLite file in a temporary home, or a throwaway PostgreSQL database next to
``--pg-admin-url``, dropped at the end) gets the server benchmark's project on the bundled KITTI
scenes (server_setup) with ``--people`` people, ``--managers`` of them managers and the rest
annotators with a task in progress, ``--history-events`` earlier heartbeats and ``--editors``
annotators with a confirmed track (sse_setup). The real app runs under uvicorn in a subprocess on a
free loopback port (server_app, server_process).

Then (sse_clients): the streams connect at once, spread round-robin over the people (by default one
person each: a real team of that size, annotators and managers, each with their own dashboard) and
each waits for its first event; each of ``--rounds`` rounds one editor records a shown nudge and
every stream waits for its next event, at most ``--timeout-s`` after the edit's answer. Reported:
the time until every stream had its first event, the delivery latency (p50/p95/max) from the edit's
answer, how many streams got every update, whether the updates show the edit, the server's resident
memory and CPU time per round, and (sse_costs) what a snapshot and a person's part cost in this
process on the same database. Everything started is stopped or removed on any exit.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench_server import DEFAULT_DATA_DIR, DEFAULT_PG_ADMIN_URL, database, disposing
from labelpilot.store.blobs import BlobStore
from labelpilot.store.db import make_engine, make_session_factory
from labelpilot.store.migrate import upgrade
from server_process import (
    exception_summary,
    postgres_reachable,
    raise_on_sigterm,
    running_server,
    server_env,
)
from server_report import machine_line
from sse_clients import SseRun, people_order, run_streams
from sse_costs import update_costs
from sse_process import server_pid
from sse_setup import build_world


def _run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    backend = args.database
    with ExitStack() as stack:
        home = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="labelpilot-sse-")))
        url = stack.enter_context(database(backend, home, args.pg_admin_url))
        engine = stack.enter_context(disposing(make_engine(url)))
        upgrade(engine)
        factory = make_session_factory(engine)
        blob_root = home / "blobs"
        console.log(f"[{backend}] {args.people} people, {args.history_events} earlier events")
        world = build_world(
            factory,
            BlobStore(str(blob_root)),
            args.data_dir,
            annotators=args.people - args.managers,
            managers=args.managers,
            editors=args.editors,
            history_events=args.history_events,
        )
        engine.dispose()  # the server has the database to itself while it is measured
        log = home / "server.log"
        with running_server(server_env(home, url, blob_root), log) as base_url:
            console.log(f"[{backend}] server up at {base_url}; {args.clients} streams, {args.rounds} rounds")
            run = asyncio.run(
                run_streams(
                    base_url,
                    world,
                    server_pid(base_url),
                    clients=args.clients,
                    rounds=args.rounds,
                    timeout_s=args.timeout_s,
                    verify=args.verify,
                )
            )
        people = people_order(world)
        costs = update_costs(
            factory, world.project_id, [people[i % len(people)] for i in range(args.clients)]
        )
        return {"run": _run_json(run), "costs": costs, "server_exceptions": exception_summary(log)}


def _run_json(run: SseRun) -> dict[str, Any]:
    return {**dataclasses.asdict(run), "latency_ms": run.latency_summary()}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def print_report(console: Console, report: dict[str, Any]) -> None:
    result, params = report["result"], report["parameters"]
    run, costs = result["run"], result["costs"]
    rounds = run["rounds"]
    table = Table(title=f"GET /api/kpis/stream: {run['clients']} streams, one edit per round")
    columns = ["database", "people", "events", "connect all s", "delivered", "every update"]
    columns += ["p50 ms", "p95 ms", "max ms", "wrong", "RSS MB", "CPU s/round"]
    for column in columns:
        table.add_column(column, justify="left" if column == "database" else "right")
    latency = run["latency_ms"]
    memory = run["memory_mb"]
    cpu = sum(r["server_cpu_s"] for r in rounds) / max(len(rounds), 1)
    table.add_row(
        params["database"],
        str(run["people"]),
        str(costs["events"]),
        f"{run['connect_all_s']:.2f} ({run['connected']}/{run['clients']})",
        f"{sum(len(r['latencies_ms']) for r in rounds)}/{run['clients'] * len(rounds)}",
        f"{run['every_update']}/{run['clients']}",
        _ms(latency.get("p50")),
        _ms(latency.get("p95")),
        _ms(latency.get("max")),
        f"{sum(r['wrong'] for r in rounds)}/{sum(r['checked'] for r in rounds)}",
        f"{memory['before']['rss_mb']:.0f} -> {memory['after']['rss_mb']:.0f}",
        f"{cpu:.2f}",
    )
    console.print(table)
    console.print(
        f"per update in this process: snapshot {costs['snapshot_ms']:.1f} ms "
        f"({costs['events']} events, {costs['members']} members), per stream {costs['personal_ms']:.2f} ms "
        f"+ {costs['json_ms']:.2f} ms JSON; all {run['clients']} streams {costs['per_update_cpu_ms']:.0f} ms."
    )
    for line, count in result["server_exceptions"].items():
        console.print(f"server log: {count}x {line}")
    for name, count in run["connect_errors"].items():
        console.print(f"[red]{count} streams without a first event: {name}[/red]")
    console.print(machine_line(report["machine"]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200, help="open KPI streams")
    parser.add_argument("--rounds", type=int, default=10, help="edits, one after another")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--json", type=Path, default=None, help="write the results here as JSON")
    parser.add_argument("--people", type=int, default=None, help="people with a stream (default: --clients)")
    parser.add_argument("--managers", type=int, default=10, help="of the people, managers")
    parser.add_argument("--editors", type=int, default=10, help="annotators who make the edits, in turn")
    parser.add_argument(
        "--history-events", type=int, default=20_000, help="earlier heartbeats of the annotators"
    )
    parser.add_argument("--timeout-s", type=float, default=10.0, help="wait this long for each update")
    parser.add_argument(
        "--verify", type=int, default=8, help="people per round whose update is compared with /api/kpis/me"
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args()
    args.people = args.people or args.clients
    for name in ("clients", "rounds", "people", "editors", "timeout_s"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 <= args.managers <= args.people - args.editors:
        parser.error("--managers must leave at least --editors annotators among --people")
    if args.history_events < 0 or args.verify < 0:
        parser.error("--history-events and --verify cannot be negative")
    raise_on_sigterm()
    console = Console()
    if not console.is_terminal:
        console = Console(width=170)  # a pipe or a log file: keep the table's columns readable
    if args.database == "postgresql" and (reason := postgres_reachable(args.pg_admin_url)):
        parser.error(f"PostgreSQL is not reachable: {reason}")
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": list(os.getloadavg())},
        "parameters": {
            k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "pg_admin_url"
        },
    }
    report["result"] = _run(args, console)
    report["machine"]["load_average_at_end"] = list(os.getloadavg())
    print_report(console, report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        console.print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
