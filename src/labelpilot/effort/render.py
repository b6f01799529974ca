"""The effort benchmark's result JSON as a Markdown report and a two-panel PNG.

Pure presentation: both functions read the dict that the benchmark writes (see ``report.section_json``)
and compute nothing but shares and layout. Any figure may be ``None`` where it is undefined (no passing
shapes, no baseline); it renders as an en dash. Only this module knows how the result looks on a page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from labelpilot.effort.report import BASELINE

MISSING = "–"
# Named here rather than imported so that rendering a stored result never depends on the benchmark code.
BASELINE_NAME = BASELINE
SPLIT_TITLES = {"stationary": "Stationary objects", "moving": "Moving objects"}

_METRIC_HEADERS = (
    "workflow",
    "seconds",
    "GT shapes",
    "delivered",
    "passing",
    "recall",
    "precision",
    "s per passing shape",
    "shapes per EUR",
    f"ratio to {BASELINE_NAME}",
    "quality bar",
)


def _number(value: Any, digits: int) -> str:
    if value is None:
        return MISSING
    return f"{float(value):,.{digits}f}"


def _count(value: Any) -> str:
    return MISSING if value is None else f"{int(value):,}"


def _quality_bar(passes: Any) -> str:
    if passes is None:
        return MISSING
    return "✓" if passes else "✗"


def ratio_text(figures: Mapping[str, Any]) -> str:
    """``"1.74x"``; a workflow that fails the quality bar gets ``"(1.74x, fails bar)"``: its ratio does not count."""
    ratio = figures.get("ratio_to_baseline")
    if ratio is None:
        return MISSING
    text = f"{float(ratio):.2f}x"
    return f"({text}, fails bar)" if figures.get("passes_quality_bar") is False else text


def _cell(text: str) -> str:
    # A pipe inside a cell would split the column.
    return text.replace("|", "\\|")


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return lines


def _metric_row(name: str, figures: Mapping[str, Any]) -> list[str]:
    return [
        name,
        _number(figures.get("seconds"), 1),
        _count(figures.get("gt_shapes")),
        _count(figures.get("delivered_shapes")),
        _count(figures.get("passing_shapes")),
        _number(figures.get("recall"), 3),
        _number(figures.get("precision"), 3),
        _number(figures.get("seconds_per_passing_shape"), 2),
        _number(figures.get("shapes_per_euro"), 1),
        ratio_text(figures),
        _quality_bar(figures.get("passes_quality_bar")),
    ]


def _workflows(section: Mapping[str, Any] | None) -> Mapping[str, Mapping[str, Any]]:
    workflows: Mapping[str, Mapping[str, Any]] = (section or {}).get("workflows") or {}
    return workflows


def actions_by_time(workflows: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every action any workflow spent time on, the most expensive over all workflows first."""
    totals: dict[str, float] = {}
    for figures in workflows.values():
        for action, seconds in (figures.get("seconds_by_action") or {}).items():
            totals[action] = totals.get(action, 0.0) + float(seconds or 0.0)
    return sorted(totals, key=lambda action: (-totals[action], action))


def _time_table(workflows: Mapping[str, Mapping[str, Any]]) -> list[str]:
    actions = actions_by_time(workflows)
    by_action = {name: figures.get("seconds_by_action") or {} for name, figures in workflows.items()}
    # Shares of the actions' own sum, so a workflow's column adds up to 100 % even if seconds were rounded.
    totals = {name: sum(float(s or 0.0) for s in seconds.values()) for name, seconds in by_action.items()}
    rows = []
    for action in actions:
        row = [action]
        for name in workflows:
            seconds = by_action[name].get(action)
            if seconds is None:
                row.append(MISSING)
            elif totals[name] > 0:
                row.append(f"{float(seconds):,.1f} s ({100.0 * float(seconds) / totals[name]:.1f} %)")
            else:
                row.append(f"{float(seconds):,.1f} s")
        rows.append(row)
    rows.append(["total", *(f"{totals[name]:,.1f} s" for name in workflows)])
    return _table(["action", *workflows], rows)


def _goal_number(value: Any) -> str:
    # Goals mix ratios (10x) and quality figures (0.95): significant digits suit both.
    return MISSING if value is None else f"{float(value):.4g}"


def _goal_line(goal: Mapping[str, Any]) -> str:
    met = goal.get("met")
    status = MISSING if met is None else ("met" if met else "not met")
    line = (
        f"- **{goal.get('name', MISSING)}**: {_goal_number(goal.get('value'))} "
        f"(target {_goal_number(goal.get('target'))}) — {status}"
    )
    note = goal.get("note")
    return f"{line}: {note}" if note else line


def markdown_report(result: Mapping[str, Any]) -> str:
    """The whole result as Markdown: overall, per kind of object, where the time goes, goals, sequences."""
    workflows = _workflows(result.get("overall"))
    wage = result.get("wage_eur_per_hour")
    lines = [
        f"# Effort benchmark: {result.get('dataset', MISSING)}, auto labels {result.get('auto_labels', MISSING)}, "
        f"wage {_number(wage, 2)} EUR/hour",
        "",
        "## Overall",
        "",
        *_table(_METRIC_HEADERS, (_metric_row(n, f) for n, f in workflows.items())),
    ]
    for split, title in SPLIT_TITLES.items():
        rows = (_metric_row(name, figures.get(split) or {}) for name, figures in workflows.items())
        lines += ["", f"## {title}", "", *_table(_METRIC_HEADERS, rows)]
    lines += ["", "## Where the time goes", "", *_time_table(workflows)]
    goals = result.get("goals") or []
    lines += ["", "## Goals", ""]
    lines += [_goal_line(goal) for goal in goals] if goals else ["No goals were set."]
    sequence_rows = [
        [
            sequence,
            name,
            ratio_text(figures),
            _number(figures.get("recall"), 3),
            _number(figures.get("precision"), 3),
        ]
        for sequence, section in (result.get("sequences") or {}).items()
        for name, figures in _workflows(section).items()
    ]
    lines += ["", "## Per sequence", ""]
    lines += _table(["sequence", "workflow", "ratio", "recall", "precision"], sequence_rows)
    return "\n".join(lines) + "\n"


def _action_colours(actions: Sequence[str]) -> dict[str, Any]:
    # Colour by name order, not by cost order, so an action keeps its colour when costs shift.
    palette = matplotlib.colormaps["tab20"]
    return {action: palette(index % palette.N) for index, action in enumerate(sorted(actions))}


def _plot_shapes_per_euro(axes: Axes, workflows: Mapping[str, Mapping[str, Any]]) -> None:
    names = list(workflows)
    heights = [float(workflows[n].get("shapes_per_euro") or 0.0) for n in names]
    bars = axes.bar(names, heights, color="tab:blue", edgecolor="black")
    for bar, name in zip(bars, names, strict=True):
        figures = workflows[name]
        if figures.get("passes_quality_bar") is False:
            bar.set_facecolor("lightgrey")
            bar.set_hatch("//")
        axes.annotate(
            ratio_text(figures),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    axes.set_ylabel("passing shapes per EUR")
    axes.set_title("Shapes per EUR (hatched: fails quality bar)")
    axes.set_ylim(0, max([*heights, 1.0]) * 1.15)
    axes.tick_params(axis="x", labelrotation=20, labelsize=8)


def _plot_time_by_action(axes: Axes, workflows: Mapping[str, Mapping[str, Any]]) -> None:
    names = list(workflows)
    actions = actions_by_time(workflows)
    colours = _action_colours(actions)
    lefts = [0.0] * len(names)
    for action in actions:
        widths = [float((workflows[n].get("seconds_by_action") or {}).get(action) or 0.0) for n in names]
        axes.barh(names, widths, left=lefts, color=colours[action], label=action)
        lefts = [left + width for left, width in zip(lefts, widths, strict=True)]
    axes.invert_yaxis()  # first workflow on top, as in the tables
    axes.set_xlabel("seconds")
    axes.set_title("Where the time goes")
    axes.tick_params(axis="y", labelsize=8)
    if actions:
        axes.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))


def plot_report(result: Mapping[str, Any], path: Path) -> None:
    """Write one PNG: shapes per EUR per workflow (left) and each workflow's seconds by action (right)."""
    workflows = _workflows(result.get("overall"))
    figure = Figure(figsize=(13, 5), layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    _plot_shapes_per_euro(left, workflows)
    _plot_time_by_action(right, workflows)
    figure.suptitle(
        f"Effort benchmark: {result.get('dataset', MISSING)}, auto labels {result.get('auto_labels', MISSING)}"
    )
    figure.savefig(path, format="png", dpi=100)
