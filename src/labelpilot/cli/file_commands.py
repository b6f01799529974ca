"""Commands on files: inspect and convert, no database needed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from labelpilot.cli.common import console, fail, progress_bar
from labelpilot.cli.scene_summary import render_scene_summary
from labelpilot.formats import FORMATS, FormatError, read_scene, write_scene
from labelpilot.scenes import Scene

FORMAT_HELP = "One of: " + ", ".join(FORMATS)
FormatArg = Annotated[str, typer.Argument(help=f"Input format. {FORMAT_HELP}.", show_default=False)]
PathArg = Annotated[Path, typer.Argument(help="Dataset root, log directory or file.", show_default=False)]
SequenceOpt = Annotated[
    str | None, typer.Option("--sequence", "-s", help="Sequence, log id or file stem inside PATH.")
]


def _check_format(name: str) -> None:
    if name not in FORMATS:
        raise fail(f"unknown format {name!r}; {FORMAT_HELP}")


def _load(format_name: str, path: Path, sequence: str | None, progress: Progress) -> Scene:
    _check_format(format_name)
    if not path.exists():
        raise fail(f"{path}: no such file or directory")
    task = progress.add_task(f"reading {format_name} {path}", total=None)
    try:
        scene = read_scene(format_name, path, sequence)
    except FormatError as exc:
        raise fail(str(exc)) from None
    progress.update(task, completed=1, total=1)
    return scene


def inspect(format_name: FormatArg, path: PathArg, sequence: SequenceOpt = None) -> None:
    """Summarise a recorded sequence: frames, duration, sensors, layers and tracks per class."""
    with progress_bar() as progress:
        scene = _load(format_name, path, sequence, progress)
    console.print(render_scene_summary(scene))


def convert(
    format_name: FormatArg,
    path: PathArg,
    to: Annotated[str, typer.Option("--to", help=f"Output format. {FORMAT_HELP}.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file or directory.", show_default=False)],
    sequence: SequenceOpt = None,
    layer: Annotated[
        str | None, typer.Option("--layer", "-l", help="Annotation layer to write (default: ground truth).")
    ] = None,
) -> None:
    """Convert a sequence and one annotation layer from one format to another (all or nothing)."""
    _check_format(to)
    with progress_bar() as progress:
        scene = _load(format_name, path, sequence, progress)
        task = progress.add_task(f"writing {to} {out}", total=None)
        try:
            written = write_scene(to, scene, out, layer)
        except (FormatError, ValueError, KeyError) as exc:
            raise fail(str(exc).strip("'\"")) from None
        progress.update(task, completed=1, total=1)
    console.print(f"wrote {len(written)} file(s) to {out}")
