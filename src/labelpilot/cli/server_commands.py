"""Running the server."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from labelpilot.api.app import create_app
from labelpilot.cli.common import console
from labelpilot.settings import Settings

GRACEFUL_SHUTDOWN_SECONDS = 3
HostOpt = Annotated[str, typer.Option("--host", help="Interface to listen on.")]
PortOpt = Annotated[int, typer.Option("--port", help="TCP port to listen on.")]


def run_server(settings: Settings, host: str, port: int) -> None:
    app = create_app(settings)
    console.print(
        f"LabelPilot is running at [bold]http://{host}:{port}/[/] (API docs: /docs); Ctrl-C stops it"
    )
    # Open live-KPI streams (server-sent events) never end on their own: cut them after a few seconds
    # instead of waiting for every browser to go away before stopping.
    uvicorn.run(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS
    )


def serve(host: HostOpt = "127.0.0.1", port: PortOpt = 8000) -> None:
    """Start the web server on the configured database and blob store."""
    run_server(Settings(), host, port)
