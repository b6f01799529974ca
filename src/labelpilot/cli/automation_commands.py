"""Automation and guidance on stored scenes: ``labelpilot autolabel`` and ``labelpilot guidance``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from labelpilot.cli.common import blob_store, console, database, fail, progress_bar
from labelpilot.services import automation_runs, guidance_queue
from labelpilot.services.actors import SYSTEM
from labelpilot.settings import Settings

DETECTOR_HELP = "Run a built-in detector on the stored sweeps: " + ", ".join(automation_runs.DETECTORS) + "."


def _summary_table(summary: dict[str, Any]) -> Table:
    source = summary["from_layer"] or f"detector {summary['detector']}"
    table = Table(title=f"scene {summary['scene_id']}: candidates from {source}", title_justify="left")
    for column in ("layer", "tracks", "replaced an earlier run"):
        table.add_column(column)
    for layer in summary["layers"]:
        table.add_row(layer["name"], str(layer["tracks"]), "yes" if layer["replaced"] else "no")
    return table


def autolabel_command(
    scene: Annotated[int, typer.Option("--scene", help="Scene id.", show_default=False)],
    from_layer: Annotated[
        str | None, typer.Option("--from", help="Associate this stored layer's boxes (e.g. auto:pointrcnn).")
    ] = None,
    detector: Annotated[str | None, typer.Option("--detector", help=DETECTOR_HELP)] = None,
) -> None:
    """Store candidate tracks of a scene, from one of its layers or from a detector, and print a summary."""
    if (from_layer is None) == (detector is None):
        raise fail("give either --from LAYER or --detector NAME")
    settings = Settings()
    with database(settings) as session, progress_bar() as progress:
        task = progress.add_task(f"autolabel scene {scene}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, description=f"detector: sweep {done}/{total}")

        summary = automation_runs.autolabel(
            session,
            blob_store(settings),
            SYSTEM,
            scene,
            from_layer=from_layer,
            detector=detector,
            progress=advance,
        )
    console.print(_summary_table(summary))
    seconds = ", ".join(f"{step} {value:.2f} s" for step, value in summary["seconds"].items())
    console.print(f"{summary['source_tracks']} source tracks over {summary['frames']} frames; {seconds}")
    poses = summary["ego_poses"]
    console.print(
        f"ego poses: {'corrected' if poses['applied'] else 'not corrected'} ({poses['reason']}); "
        f"active: {poses['active']}" + (f"; notice: {poses['notice']}" if poses["notice"] else "")
    )


def _actions_table(actions: list[dict[str, Any]]) -> Table:
    table = Table(title_justify="left")
    for column in ("#", "action", "track", "frame", "view", "key", "saves s", "why"):
        table.add_column(column, overflow="fold")
    for rank, action in enumerate(actions, start=1):
        table.add_row(
            str(rank),
            str(action.get("kind")),
            str(action.get("track_id") or "-"),
            str(action.get("frame")),
            str(action.get("view")),
            str(action.get("key")),
            f"{float(action.get('saves_seconds') or 0.0):.1f}",
            str(action.get("reason")),
        )
    return table


def guidance_command(
    scene: Annotated[int, typer.Option("--scene", help="Scene id.", show_default=False)],
    task: Annotated[int | None, typer.Option("--task", help="Task id (its layer is the work layer).")] = None,
    layer: Annotated[
        str | None, typer.Option("--layer", help="Work layer (default: the task's, else work).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Show at most this many actions.", min=1)
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the actions as JSON instead of a table.")
    ] = False,
) -> None:
    """Print the next best actions on a scene, best first."""
    settings = Settings()
    with database(settings) as session:
        actions = guidance_queue.guidance(
            session, blob_store(settings), SYSTEM, scene, task_id=task, work_layer=layer, limit=limit
        )
    if as_json:
        typer.echo(json.dumps(actions, indent=2))
        return
    if not actions:
        console.print("nothing to do: no guidance for this scene")
        return
    console.print(_actions_table(actions))
