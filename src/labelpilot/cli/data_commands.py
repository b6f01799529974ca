"""Moving scenes in and out of the database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelpilot.cli.common import blob_store, console, database, fail, progress_bar
from labelpilot.formats import FORMATS
from labelpilot.services import projects, scenes
from labelpilot.services.actors import SYSTEM
from labelpilot.settings import Settings

FORMAT_HELP = "One of: " + ", ".join(FORMATS)


def import_command(
    format_name: Annotated[str, typer.Argument(help=f"Input format. {FORMAT_HELP}.", show_default=False)],
    path: Annotated[Path, typer.Argument(help="Dataset root, log directory or file.", show_default=False)],
    project: Annotated[str, typer.Option("--project", "-p", help="Project id or name.", show_default=False)],
    sequence: Annotated[
        str | None, typer.Option("--sequence", "-s", help="Sequence, log id or file stem.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Scene name (default: from the data).")] = None,
) -> None:
    """Import a scene into a project as one transaction and print the new scene's id."""
    if format_name not in FORMATS:
        raise fail(f"unknown format {format_name!r}; {FORMAT_HELP}")
    if not path.exists():
        raise fail(f"{path}: no such file or directory")
    settings = Settings()
    with database(settings) as session, progress_bar() as progress:
        target = projects.resolve_project(session, project)
        task = progress.add_task(f"importing {path}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        row = scenes.import_scene(
            session, blob_store(settings), SYSTEM, target.id, format_name, path, sequence, name, advance
        )
        scene_id = row.id
    typer.echo(scene_id)


def export_command(
    format_name: Annotated[str, typer.Argument(help=f"Output format. {FORMAT_HELP}.", show_default=False)],
    scene: Annotated[int, typer.Option("--scene", help="Scene id.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file or directory.", show_default=False)],
    layer: Annotated[
        str | None, typer.Option("--layer", "-l", help="Layer to write (default: the format's).")
    ] = None,
) -> None:
    """Export one layer of a stored scene (all or nothing)."""
    settings = Settings()
    with database(settings) as session:
        try:
            written = scenes.export_scene(
                session, blob_store(settings), SYSTEM, scene, format_name, layer, out
            )
        except (ValueError, KeyError) as exc:
            raise fail(str(exc).strip("'\"")) from None
    console.print(f"wrote {len(written)} file(s) to {out}")
