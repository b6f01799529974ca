"""``labelpilot bench effort``: price every workflow in shapes per Euro with a simulated annotator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from labelpilot.cli.common import console, fail, progress_bar
from labelpilot.effort.render import markdown_report, plot_report
from labelpilot.effort.report import DEFAULT_WAGE_EUR_PER_HOUR
from labelpilot.effort.workflows import WORKFLOWS, WorkflowName, WorkflowSettings
from labelpilot.formats.errors import FormatError
from labelpilot.services.effort_bench import AUTO_LABELS, DATASETS, EffortRequest, run_effort, scene_sources
from labelpilot.services.errors import ServiceError

bench_app = typer.Typer(help="Benchmarks of the product itself.", no_args_is_help=True)
SHARED_DATA = Path("../shared/data")


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _workflows(value: str | None) -> list[WorkflowName]:
    names = _split(value) or list(WORKFLOWS)
    unknown = [n for n in names if n not in WORKFLOWS]
    if unknown:
        raise fail(f"unknown workflows {unknown} (known: {', '.join(WORKFLOWS)})")
    return [w for w in WORKFLOWS if w in names]


def _summary(result: dict[str, object]) -> Table:
    overall = result["overall"]
    assert isinstance(overall, dict)
    table = Table(title="effort benchmark, all sequences", title_justify="left")
    for column in ("workflow", "seconds", "recall", "precision", "shapes/EUR", "ratio", "quality bar"):
        table.add_column(column)
    for name, wf in overall["workflows"].items():
        table.add_row(
            name,
            f"{wf['seconds']:.0f}",
            str(wf["recall"]),
            str(wf["precision"]),
            str(wf["shapes_per_euro"]),
            f"{wf['ratio_to_baseline']}x" if wf["ratio_to_baseline"] is not None else "-",
            "passes" if wf["passes_quality_bar"] else "fails",
        )
    return table


def effort_command(
    dataset: Annotated[str, typer.Option("--dataset", help=f"One of: {', '.join(DATASETS)}.")],
    json_out: Annotated[
        Path, typer.Option("--json", help="Write the result here (JSON).", show_default=False)
    ],
    root: Annotated[
        Path | None,
        typer.Option("--root", help="The dataset's folder (default: ../shared/data/<dataset> when present)."),
    ] = None,
    sequences: Annotated[
        str | None, typer.Option("--sequences", help="KITTI sequences, comma separated (default: all).")
    ] = None,
    logs: Annotated[
        str | None,
        typer.Option(
            "--logs", help="Argoverse 2 log ids, comma separated (default: every log with auto labels)."
        ),
    ] = None,
    auto_labels: Annotated[
        str | None,
        typer.Option(
            "--auto-labels",
            help="pointrcnn (detections) or tracker (default: pointrcnn on KITTI, tracker on AV2).",
        ),
    ] = None,
    workflows: Annotated[
        str | None, typer.Option("--workflows", help="Workflows to run, comma separated (default: all four).")
    ] = None,
    wage: Annotated[
        float, typer.Option("--wage", help="Annotator wage in EUR per hour.", min=0.01)
    ] = DEFAULT_WAGE_EUR_PER_HOUR,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Also write a Markdown report.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Also write a PNG plot.")] = None,
) -> None:
    """Replay the workflows with a simulated annotator on real scenes and price them in shapes per Euro."""
    if dataset not in DATASETS:
        raise fail(f"unknown dataset {dataset!r} (known: {', '.join(DATASETS)})")
    source = auto_labels or ("pointrcnn" if dataset == "kitti-tracking" else "tracker")
    if source not in AUTO_LABELS:
        raise fail(f"unknown auto labels {source!r} (known: {', '.join(AUTO_LABELS)})")
    folder = root or SHARED_DATA / dataset
    if not folder.is_dir():
        raise fail(f"{folder}: no such folder (give --root)")
    names = _split(sequences) if dataset == "kitti-tracking" else _split(logs)
    request = EffortRequest(dataset, folder, names, source, _workflows(workflows), wage, WorkflowSettings())
    try:
        total = len(scene_sources(dataset, folder, names, source)) * len(request.workflows)
        with progress_bar() as progress:
            task = progress.add_task("effort benchmark", total=total)

            def advance(scene: str, workflow: str) -> None:
                progress.update(task, advance=1, description=f"{scene}: {workflow} done")

            result = run_effort(request, advance)
    except (FormatError, ServiceError) as exc:
        raise fail(str(exc)) from None
    json_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if markdown is not None:
        markdown.write_text(markdown_report(result), encoding="utf-8")
    if plot is not None:
        plot_report(result, plot)
    console.print(_summary(result))
    for goal in result["goals"]:
        console.print(f"goal {goal['name']} >= {goal['target']}x: {goal['note']}", highlight=False)
