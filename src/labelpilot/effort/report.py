"""From seconds and passing shapes to the figures EFFORT_MODEL.md rule 5 asks for, per workflow.

Seconds split by stationary and moving objects: what the annotator spent on an object (it knew which
one) goes to that object's kind; time it could not spend on a known object (scans, jumps between
objects, rejecting false candidates, submitting) is shared in proportion to the ground-truth shapes
of each kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from labelpilot.effort.ground_truth import GroundTruth
from labelpilot.effort.ledger import Ledger
from labelpilot.effort.quality import SPLITS, Counts, Evaluation

QUALITY_BAR = 0.95
DEFAULT_WAGE_EUR_PER_HOUR = 25.0
BASELINE = "frame_by_frame"


@dataclass(frozen=True)
class Figures:
    """Seconds and shape counts of one workflow on one or more scenes (they add up)."""

    seconds: float
    counts: Counts
    by_split_seconds: dict[str, float]
    by_split_counts: dict[str, Counts]
    seconds_by_action: dict[str, float] = field(default_factory=dict)

    def __add__(self, other: Figures) -> Figures:
        actions = dict(self.seconds_by_action)
        for name, value in other.seconds_by_action.items():
            actions[name] = round(actions.get(name, 0.0) + value, 4)
        return Figures(
            self.seconds + other.seconds,
            self.counts + other.counts,
            {k: self.by_split_seconds[k] + other.by_split_seconds[k] for k in SPLITS},
            {k: self.by_split_counts[k] + other.by_split_counts[k] for k in SPLITS},
            dict(sorted(actions.items())),
        )


def figures(truth: GroundTruth, ledger: Ledger, evaluation: Evaluation) -> Figures:
    ids = {
        name: {o.object_id for o in truth.objects.values() if o.stationary == (name == "stationary")}
        for name in SPLITS
    }
    total_gt = max(evaluation.overall.gt_shapes, 1)
    shared = ledger.unattributed_seconds()
    split_seconds = {
        name: ledger.seconds_for(ids[name]) + shared * evaluation.by_split[name].gt_shapes / total_gt
        for name in SPLITS
    }
    return Figures(
        ledger.seconds, evaluation.overall, split_seconds, evaluation.by_split, ledger.seconds_by_action()
    )


def _metrics(seconds: float, counts: Counts, wage: float) -> dict[str, Any]:
    recall = counts.passing_shapes / counts.gt_shapes if counts.gt_shapes else None
    precision = counts.passing_shapes / counts.delivered_shapes if counts.delivered_shapes else None
    euros = seconds / 3600.0 * wage
    return {
        "seconds": round(seconds, 2),
        "gt_shapes": counts.gt_shapes,
        "delivered_shapes": counts.delivered_shapes,
        "passing_shapes": counts.passing_shapes,
        "recall": None if recall is None else round(recall, 4),
        "precision": None if precision is None else round(precision, 4),
        "seconds_per_passing_shape": round(seconds / counts.passing_shapes, 3)
        if counts.passing_shapes
        else None,
        "shapes_per_euro": round(counts.passing_shapes / euros, 3) if euros > 0 else None,
        "passes_quality_bar": bool(
            recall is not None
            and precision is not None
            and recall >= QUALITY_BAR
            and precision >= QUALITY_BAR
        ),
    }


def _ratio(value: float | None, baseline: float | None) -> float | None:
    if value is None or not baseline:
        return None
    return round(value / baseline, 3)


def workflow_json(result: Figures, baseline: Figures | None, wage: float) -> dict[str, Any]:
    """The figures of one workflow, each kind of object too, with ratios to the baseline's."""
    out = _metrics(result.seconds, result.counts, wage)
    base = _metrics(baseline.seconds, baseline.counts, wage) if baseline else None
    out["ratio_to_baseline"] = _ratio(out["shapes_per_euro"], base["shapes_per_euro"] if base else None)
    for name in SPLITS:
        part = _metrics(result.by_split_seconds[name], result.by_split_counts[name], wage)
        base_part = (
            _metrics(baseline.by_split_seconds[name], baseline.by_split_counts[name], wage)
            if baseline
            else None
        )
        part["ratio_to_baseline"] = _ratio(
            part["shapes_per_euro"], base_part["shapes_per_euro"] if base_part else None
        )
        out[name] = part
    out["seconds_by_action"] = result.seconds_by_action
    return out


def section_json(results: Mapping[str, Figures], wage: float) -> dict[str, Any]:
    """``{"workflows": {name: figures}}`` for one sequence or the whole run."""
    baseline = results.get(BASELINE)
    return {"workflows": {name: workflow_json(r, baseline, wage) for name, r in results.items()}}
