"""A whole effort run: figures per sequence and overall, and whether the product's goals are met.

The goals (issue "Effort benchmark"): ``guided`` at least 10x the ``frame_by_frame`` shapes per Euro
overall, stationary objects at least 15x, and ``guided`` at least 3x ``keyframes_sensor_frame`` —
each only counting when the workflows compared clear the quality bar (recall and precision 0.95).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from labelpilot.effort.prices import price_table
from labelpilot.effort.report import QUALITY_BAR, Figures, section_json
from labelpilot.effort.workflows import WorkflowSettings


@dataclass(frozen=True)
class Goal:
    name: str
    numerator: str
    denominator: str
    target: float
    split: str | None = None


GOALS = (
    Goal("guided vs frame_by_frame", "guided", "frame_by_frame", 10.0),
    Goal("guided vs frame_by_frame, stationary objects", "guided", "frame_by_frame", 15.0, "stationary"),
    Goal("guided vs keyframes_sensor_frame", "guided", "keyframes_sensor_frame", 3.0),
)


def overall(per_sequence: Mapping[str, Mapping[str, Figures]]) -> dict[str, Figures]:
    """Figures summed over sequences, per workflow (seconds and shapes add up; ratios do not)."""
    totals: dict[str, Figures] = {}
    for results in per_sequence.values():
        for name, figures in results.items():
            totals[name] = totals[name] + figures if name in totals else figures
    return totals


def _figures_of(section: Mapping[str, Any], workflow: str, split: str | None) -> Mapping[str, Any] | None:
    found: Mapping[str, Any] | None = section["workflows"].get(workflow)
    if found is None:
        return None
    return found if split is None else found[split]


def goal_json(section: Mapping[str, Any], goal: Goal) -> dict[str, Any]:
    top = _figures_of(section, goal.numerator, goal.split)
    bottom = _figures_of(section, goal.denominator, goal.split)
    out: dict[str, Any] = {"name": goal.name, "target": goal.target, "value": None, "met": False}
    if top is None or bottom is None:
        out["note"] = "not run"
        return out
    if top["shapes_per_euro"] and bottom["shapes_per_euro"]:
        out["value"] = round(top["shapes_per_euro"] / bottom["shapes_per_euro"], 3)
    failing = [
        name
        for name, part in ((goal.numerator, top), (goal.denominator, bottom))
        if not part["passes_quality_bar"]
    ]
    if failing:
        out["note"] = f"does not count: {', '.join(failing)} below the quality bar ({QUALITY_BAR})"
    else:
        out["met"] = out["value"] is not None and out["value"] >= goal.target
        out["note"] = "met" if out["met"] else f"{out['value']}x of the {goal.target}x asked for"
    return out


def run_json(
    per_sequence: Mapping[str, Mapping[str, Figures]],
    *,
    dataset: str,
    auto_labels: str,
    wage: float,
    settings: WorkflowSettings,
) -> dict[str, Any]:
    """The result file: run description, ``overall``, ``sequences.<id>`` and the goals."""
    total = section_json(overall(per_sequence), wage)
    return {
        "benchmark": "effort",
        "dataset": dataset,
        "auto_labels": auto_labels,
        "wage_eur_per_hour": wage,
        "price_table": price_table().citation,
        "settings": {
            "scan_stride_s": settings.scan_stride_s,
            "max_unchecked_moving_s": settings.max_unchecked_moving_s,
            "max_unchecked_stationary_s": settings.max_unchecked_stationary_s,
            "max_unchecked_supported_s": settings.max_unchecked_supported_s,
        },
        "overall": total,
        "sequences": {name: section_json(results, wage) for name, results in per_sequence.items()},
        "goals": [goal_json(total, goal) for goal in GOALS],
    }
