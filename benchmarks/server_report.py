"""The server benchmark's results as rich tables (the JSON report holds everything shown and more)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

EDIT_CASES = {
    "sequential": "sequential, 1 client",
    "concurrent_own_tokens": "concurrent, own tokens",
    "concurrent_one_token": "concurrent, one token",
}

FRAME_COLUMNS = (
    *("backend", "p50 ms", "p95 ms", "server total p50 ms", "MB/answer", "points", "304 p50 ms"),
    *("x source decode", "x source read", "x blob read", "errors"),
)
EDIT_COLUMNS = (
    *("backend", "case", "edits", "p50 ms", "p95 ms", "max ms", "edits/s", "KB/answer"),
    *("server total p50 ms", "after answer p50 ms", "errors"),
)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _errors(errors: dict[str, int]) -> str:
    if not errors:
        return "0"
    return ", ".join(f"{count}x {kind}" for kind, count in sorted(errors.items()))


def _frames_table(backends: dict[str, Any]) -> Table:
    table = Table(title="GET /api/scenes/{id}/frames/{i}/lidar (KITTI odometry sweeps)")
    for column in FRAME_COLUMNS:
        table.add_column(column, justify="left" if column == "backend" else "right")
    for backend, result in backends.items():
        if "skipped" in result:
            table.add_row(backend, *["-"] * 9, "skipped")
            continue
        frames, reads = result["frames"], result["local_reads"]
        p50 = frames["wall_ms"]["p50"]
        table.add_row(
            backend,
            _ms(p50),
            _ms(frames["wall_ms"]["p95"]),
            _ms(frames["server"]["total_ms"].get("p50")),
            f"{frames['bytes_per_response'] / 1e6:.2f}",
            f"{frames['points_per_response']:.0f}",
            _ms(frames["not_modified_ms"]["p50"]),
            f"{p50 / reads['source_decode_ms']:.1f}",
            f"{p50 / reads['source_read_bytes_ms']:.1f}",
            f"{p50 / reads['blob_read_ms']:.1f}",
            _errors(frames["errors"]),
        )
    return table


def _edits_table(backends: dict[str, Any]) -> Table:
    table = Table(
        title="PUT /api/tracks/{id}/keyframes/{frame} (KITTI tracking 0001, confirmed tracker tracks)"
    )
    for column in EDIT_COLUMNS:
        table.add_column(column, justify="left" if column in ("backend", "case") else "right")
    for backend, result in backends.items():
        if "skipped" in result:
            continue
        for key, case in EDIT_CASES.items():
            run = result[key]
            wall, server = run["wall_ms"], run["server"]
            table.add_row(
                backend,
                case if run["clients"] == 1 else f"{case} ({run['clients']} clients)",
                str(run["edits"]),
                _ms(wall.get("p50")),
                _ms(wall.get("p95")),
                _ms(wall.get("max")),
                f"{run['edits_per_s']:.0f}",
                f"{run['bytes_per_response'] / 1e3:.1f}",
                _ms(server["total_ms"].get("p50")),
                _ms(server["after_response_ms"].get("p50")),
                _errors(run["errors"]),
            )
    return table


def print_report(console: Console, report: dict[str, Any]) -> None:
    backends = report["backends"]
    console.print(_frames_table(backends))
    console.print(_edits_table(backends))
    for backend, result in backends.items():
        if "skipped" in result:
            continue
        reads = result["local_reads"]
        console.print(
            f"{backend}: local baselines per frame: source {reads['source']} "
            f"{reads['source_bytes'] / 1e6:.2f} MB read {reads['source_read_bytes_ms']:.2f} ms, "
            f"decoded {reads['source_decode_ms']:.2f} ms; stored blob {reads['blob_bytes'] / 1e6:.2f} MB "
            f"read {reads['blob_read_ms']:.2f} ms."
        )
        versions = result["versions"]
        console.print(
            f"{backend}: tracks with an edit answered 200 but not stored: {versions['lost']}; "
            f"with an edit stored but never answered to the client: {versions['unacknowledged']}."
        )
        for line, count in result["server_exceptions"].items():
            console.print(f"{backend}: server log: {count}x {line}")
    console.print(machine_line(report["machine"]))


def machine_line(machine: dict[str, Any]) -> str:
    """The CPUs and the load average at the start and the end of a run."""
    return (
        f"machine: {machine['cpus']} CPUs, load average at start {machine['load_average_at_start'][0]:.2f}, "
        f"at end {machine['load_average_at_end'][0]:.2f} (client and server share the CPUs)."
    )
