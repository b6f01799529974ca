"""What the tests that start a real ``labelpilot`` server process share."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_env(home: Path) -> dict[str, str]:
    """The environment of a server on its own home: nothing of the developer's own configuration (a
    PostgreSQL URL, another home) may leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABELPILOT_")}
    env["LABELPILOT_HOME"] = str(home)
    return env
