"""What the live-KPI benchmark reads of the server process from /proc: its resident memory and CPU time.

``server_process.running_server`` hands out only the server's URL; the process is found by its command
line (``server_app.py --port PORT``), which is unique because every run binds its own free port.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def server_pid(base_url: str) -> int:
    """The process id of the benchmark server listening at ``base_url``."""
    wanted = ["--port", str(urlsplit(base_url).port)]
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue  # ended meanwhile, or not ours to read
        if any(arg.endswith("server_app.py") for arg in argv) and any(
            argv[i : i + 2] == wanted for i in range(len(argv) - 1)
        ):
            return int(entry.name)
    raise RuntimeError(f"no server_app.py process serves {base_url}")


def memory_mb(pid: int) -> dict[str, float]:
    """Resident memory now (VmRSS) and at its peak so far (VmHWM), in MB."""
    found: dict[str, float] = {}
    for line in (PROC / str(pid) / "status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found["rss_mb" if key == "VmRSS" else "peak_rss_mb"] = int(value.split()[0]) / 1024.0
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of the process (all its threads) so far."""
    stat = (PROC / str(pid) / "stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) "; the name may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
