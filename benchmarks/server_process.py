"""What the server benchmark starts and must stop again: the API server process and a PostgreSQL database.

Both are context managers that clean up on any exit, errors and Ctrl-C included: the server is
stopped by its process id (SIGTERM, then SIGKILL after a grace period), the database is dropped.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SERVER_SCRIPT = Path(__file__).resolve().with_name("server_app.py")
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 15.0
START_ATTEMPTS = 3
"""A free port can be taken by someone else between choosing it and the server binding it; retry."""


EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout)\w*: ")
"""The last line of a Python traceback, as uvicorn logs one for a request that failed with a 500."""


class ServerError(RuntimeError):
    """The API server did not come up."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_GRACE_S)


def _wait_healthy(process: subprocess.Popen[bytes], base_url: str) -> bool:
    """True once /api/health answers; False if the process died first (e.g. the port was taken)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                if client.get("/api/health").status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise ServerError(f"the API server did not answer on {base_url} within {START_TIMEOUT_S:.0f} s")


def server_env(home: Path, database_url: str, blob_root: Path) -> dict[str, str]:
    """The settings of a benchmark server, as ``LABELPILOT_*`` environment variables."""
    return {
        "LABELPILOT_HOME": str(home),
        "LABELPILOT_DATABASE_URL": database_url,
        "LABELPILOT_BLOB_ROOT": str(blob_root),
    }


@contextmanager
def running_server(env: dict[str, str], log_path: Path, extra_args: Sequence[str] = ()) -> Iterator[str]:
    """Run benchmarks/server_app.py on a free loopback port; yields its base URL, stops it on exit."""
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    for _attempt in range(START_ATTEMPTS):
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, str(SERVER_SCRIPT), "--port", str(port), *extra_args],
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: a Ctrl-C meant for the benchmark reaches the server only via _stop.
                start_new_session=True,
            )
        try:
            healthy = _wait_healthy(process, base_url)
            if healthy:
                yield base_url
                return
        finally:
            _stop(process)
    tail = log_path.read_text(errors="replace")[-2000:]
    raise ServerError(f"the API server exited at start {START_ATTEMPTS} times; its log ends:\n{tail}")


def exception_summary(log_path: Path) -> dict[str, int]:
    """How often each exception line (``module.Error: message``) occurs in the server's log."""
    if not log_path.is_file():
        return {}
    found: Counter[str] = Counter()
    for line in log_path.read_text(errors="replace").splitlines():
        if EXCEPTION_LINE.match(line):
            found[line[:160]] += 1
    return dict(found.most_common())


def postgres_reachable(admin_url: str) -> str | None:
    """None when PostgreSQL answers at ``admin_url``, else why not."""
    engine = create_engine(admin_url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:  # any driver error means: skip this backend, say why
        return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    finally:
        engine.dispose()
    return None


@contextmanager
def throwaway_postgres(admin_url: str) -> Iterator[str]:
    """A new empty database next to ``admin_url``'s; yields its URL and drops it (WITH FORCE) on exit."""
    name = f"labelpilot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def raise_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that the cleanup of every context manager still runs."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
