"""Running the server."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from labelpilot.api.app import create_app
from labelpilot.cli.common import console
from labelpilot.settings import Settings

HostOpt = Annotated[str, typer.Option("--host", help="Interface to listen on.")]
PortOpt = Annotated[int, typer.Option("--port", help="TCP port to listen on.")]


def run_server(settings: Settings, host: str, port: int) -> None:
    app = create_app(settings)
    console.print(
        f"LabelPilot is running at [bold]http://{host}:{port}/[/] (API docs: /docs); Ctrl-C stops it"
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def serve(host: HostOpt = "127.0.0.1", port: PortOpt = 8000) -> None:
    """Start the web server on the configured database and blob store."""
    run_server(Settings(), host, port)
