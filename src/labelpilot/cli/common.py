"""What every command shares: consoles, the bad-input exit code, the local database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.orm import Session

from labelpilot.services.errors import ServiceError
from labelpilot.settings import Settings
from labelpilot.store.blobs import BlobStore
from labelpilot.store.db import make_engine, make_session_factory
from labelpilot.store.migrate import upgrade

console = Console()
errors = Console(stderr=True)

EXIT_BAD_INPUT = 2


def fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(EXIT_BAD_INPUT)


def progress_bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    )


def blob_store(settings: Settings) -> BlobStore:
    return BlobStore(settings.resolved_blob_root)


@contextmanager
def database(settings: Settings | None = None, *, migrate: bool = True) -> Iterator[Session]:
    """One transaction on the configured database; service errors become exit code 2."""
    settings = settings or Settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        if migrate:
            upgrade(engine)
        factory = make_session_factory(engine)
        try:
            with factory() as session, session.begin():
                yield session
        except ServiceError as exc:
            raise fail(exc.message) from None
    finally:
        engine.dispose()
