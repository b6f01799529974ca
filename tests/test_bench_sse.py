"""Smoke test of the live-KPI benchmark (benchmarks/bench_sse_clients.py): a small run end to end.

The script runs as the benchmark is run (its own process, a real server on SQLite); what is checked is
what it measured, never how fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_every_stream_gets_every_update_that_shows_the_edit(tmp_path: Path) -> None:
    out = tmp_path / "sse.json"
    command = [sys.executable, str(BENCHMARKS / "bench_sse_clients.py"), "--clients", "5", "--rounds", "2"]
    command += ["--people", "6", "--managers", "2", "--editors", "2", "--history-events", "300"]
    command += ["--json", str(out)]
    finished = subprocess.run(command, cwd=BENCHMARKS, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]

    result = json.loads(out.read_text())["result"]
    run = result["run"]
    assert (run["clients"], run["people"], run["connected"], run["connect_errors"]) == (5, 5, 5, {})
    assert run["every_update"] == 5
    assert [r["editor"] for r in run["rounds"]] == ["annotator00", "annotator01"]
    for edit_round in run["rounds"]:
        assert (len(edit_round["latencies_ms"]), edit_round["missed"], edit_round["wrong"]) == (5, 0, 0)
        # The editor's stream checks its nudge count; the sample compares the other four with /api/kpis/me.
        assert edit_round["checked"] == 5
    assert run["latency_ms"]["n"] == 10
    assert run["memory_mb"]["after"]["rss_mb"] > 0
    # 300 earlier heartbeats, the confirmations of the two editors' tracks, and the two nudges.
    assert result["costs"]["events"] >= 302
    assert result["costs"]["members"] == 7  # the six people and the administrator who made the project
    assert result["server_exceptions"] == {}
