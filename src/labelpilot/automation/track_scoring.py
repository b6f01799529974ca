"""Confidence of detections and the score of a candidate track.

Detectors disagree on what a score is (PointRCNN gives logits around -1..15, the Argoverse tracker
probabilities in [0, 1]), so raw scores are first mapped to a confidence in [0, 1].

A candidate's score ranks it for review and is the product of four factors in [0, 1]:

    score = mean_confidence * (1 - exp(-hits / length_scale_hits)) * hit_ratio * support

* ``mean_confidence``: the mean confidence of the track's detections;
* the length factor: a track seen once is weak evidence, one seen ten times much stronger;
* ``hit_ratio``: the share of the observation frames in the track's life where it was detected
  (a real object is detected nearly every time; a flickering false positive strings together a
  few detections separated by misses);
* ``support`` = 1 - exp(-mean_points / support_scale_points) where ``mean_points`` is the mean
  number of lidar points inside the candidate's box over its detected frames that have a sweep.
  Where no such frame exists the support is not measured and the factor is 1 (no evidence against).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from labelpilot.automation.association import AssociationParams
from labelpilot.automation.sweep_access import SweepSource
from labelpilot.geometry import CuboidBatch, count_points_in_cuboids
from labelpilot.scenes import Scene

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def confidences(scores: FloatArray, params: AssociationParams) -> FloatArray:
    """Raw scores (NaN = none given) as confidences in [0, 1]; a missing score counts as 1."""
    given = np.isfinite(scores)
    kind = params.score_kind
    if kind == "auto":
        inside = bool(np.all((scores[given] >= 0.0) & (scores[given] <= 1.0)))
        kind = "probability" if inside else "logit"
    out = np.ones(len(scores))
    if kind == "logit":
        out[given] = expit(scores[given])
    else:
        out[given] = np.clip(scores[given], 0.0, 1.0)
    return out


def track_score(
    mean_confidence: float, hits: int, hit_ratio: float, mean_points: float | None, params: AssociationParams
) -> float:
    """The formula of the module docstring."""
    length_factor = 1.0 - np.exp(-hits / params.length_scale_hits)
    support = 1.0 if mean_points is None else 1.0 - np.exp(-mean_points / params.support_scale_points)
    return float(mean_confidence * length_factor * hit_ratio * support)


def point_counts(scene: Scene, sweeps: SweepSource, frames: IntArray, boxes_world: CuboidBatch) -> FloatArray:
    """Lidar points inside each world box (one per entry of ``frames``); NaN where the frame has no sweep.

    Each frame's sweep is read once and tested against all boxes of that frame, in the ego frame.
    """
    counts = np.full(len(frames), np.nan)
    order = np.argsort(frames, kind="stable")
    values, starts = np.unique(frames[order], return_index=True)
    ends = np.append(starts[1:], len(order))[: len(starts)]
    for frame, start, end in zip(values.tolist(), starts.tolist(), ends.tolist(), strict=True):
        points = sweeps.points_ego(frame)
        if points is None:
            continue
        rows = order[start:end]
        in_frame = CuboidBatch(
            boxes_world.centers[rows], boxes_world.sizes[rows], boxes_world.quats_xyzw[rows]
        )
        ego_T_world = scene.frames[frame].world_T_ego.inverse()
        counts[rows] = count_points_in_cuboids(points[:, :3], in_frame.transformed(ego_T_world))
    return counts


def mean_support(counts: FloatArray, rows: Sequence[int] | IntArray) -> float | None:
    """Mean point count over the measured entries among ``rows``; None when none is measured."""
    values = counts[np.asarray(rows, dtype=np.int64)]
    measured = values[np.isfinite(values)]
    return float(measured.mean()) if len(measured) else None
