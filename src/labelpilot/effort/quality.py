"""Which delivered shapes pass: measured after a workflow has delivered, never seen by the annotator.

EFFORT_MODEL.md rule 1: a shape passes when its 3D IoU with the ground-truth shape of the same object
in the same frame reaches the class's threshold. "The same object" is decided per delivered track:
the track is for the ground-truth object it passes against in the most frames (none if it never
passes). A shape passes when it has that object's class and clears the threshold against that
object's shape in its frame; of two passing shapes of one object in one frame only the better counts
(the other is a duplicate). Shapes that were never inspected count as they are (rule 3).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labelpilot.effort.ground_truth import GroundTruth, pass_threshold
from labelpilot.geometry import CuboidBatch, iou_3d_pairs
from labelpilot.tracks import Track, world_shapes

PAIR_DISTANCE_M = 12.0
"""Shapes farther apart than this (centre to centre) cannot overlap for any class we label."""
SPLITS = ("stationary", "moving")


@dataclass(frozen=True)
class Counts:
    gt_shapes: int
    delivered_shapes: int
    passing_shapes: int

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.gt_shapes + other.gt_shapes,
            self.delivered_shapes + other.delivered_shapes,
            self.passing_shapes + other.passing_shapes,
        )


@dataclass(frozen=True)
class Evaluation:
    overall: Counts
    by_split: dict[str, Counts]
    failing: list[tuple[str, int]]
    """(delivered track id, frame) of every delivered shape that does not pass."""


@dataclass(frozen=True)
class _Flat:
    owner: NDArray[np.int64]
    frames: NDArray[np.int64]
    shapes: CuboidBatch


def _flatten(batches: Sequence[tuple[NDArray[np.int64], CuboidBatch]]) -> _Flat:
    kept = [(f, s) for f, s in batches if len(f)]
    if not kept:
        empty = CuboidBatch(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 4)))
        return _Flat(np.zeros(0, np.int64), np.zeros(0, np.int64), empty)
    owners = np.concatenate([np.full(len(f), i, np.int64) for i, (f, _) in enumerate(batches) if len(f)])
    frames = np.concatenate([f for f, _ in kept])
    shapes = CuboidBatch(
        np.concatenate([s.centers for _, s in kept]),
        np.concatenate([s.sizes for _, s in kept]),
        np.concatenate([s.quats_xyzw for _, s in kept]),
    )
    return _Flat(owners, frames, shapes)


def _pairs(a: _Flat, b: _Flat) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Index pairs (into a, into b) of shapes in the same frame within PAIR_DISTANCE_M."""
    rows_a: list[NDArray[np.int64]] = []
    rows_b: list[NDArray[np.int64]] = []
    order_b = np.argsort(b.frames, kind="stable")
    sorted_frames = b.frames[order_b]
    for frame in np.unique(a.frames):
        ia = np.flatnonzero(a.frames == frame)
        lo, hi = np.searchsorted(sorted_frames, [frame, frame + 1])
        ib = order_b[lo:hi]
        if not len(ib):
            continue
        gap = np.linalg.norm(a.shapes.centers[ia, None, :2] - b.shapes.centers[None, ib, :2], axis=2)
        ka, kb = np.nonzero(gap < PAIR_DISTANCE_M)
        rows_a.append(ia[ka])
        rows_b.append(ib[kb])
    if not rows_a:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows_a), np.concatenate(rows_b)


def _subset(flat: _Flat, rows: NDArray[np.int64]) -> CuboidBatch:
    s = flat.shapes
    return CuboidBatch(s.centers[rows], s.sizes[rows], s.quats_xyzw[rows])


def evaluate(truth: GroundTruth, delivered: Sequence[Track]) -> Evaluation:
    objects = list(truth.objects.values())
    gt = _flatten([(o.frames, o.shapes) for o in objects])
    shapes = [world_shapes(t) for t in delivered]
    dv = _flatten([(s.frames, s.cuboids) for s in shapes])
    pa, pb = _pairs(dv, gt)
    ious = iou_3d_pairs(_subset(dv, pa), _subset(gt, pb)) if len(pa) else np.zeros(0)
    thresholds = np.array([pass_threshold(objects[i].label) for i in gt.owner[pb]])
    clears = ious >= thresholds
    # Each delivered track is for the object it clears the threshold against most often.
    votes: dict[int, Counter[int]] = {}
    for track_i, obj_i in zip(dv.owner[pa[clears]], gt.owner[pb[clears]], strict=True):
        votes.setdefault(int(track_i), Counter())[int(obj_i)] += 1
    assigned = {t: c.most_common(1)[0][0] for t, c in votes.items()}
    best: dict[int, tuple[float, int]] = {}  # gt row -> (iou, delivered row) of the best passing shape
    for k in np.flatnonzero(clears):
        d_row, g_row = int(pa[k]), int(pb[k])
        track_i, obj_i = int(dv.owner[d_row]), int(gt.owner[g_row])
        if assigned.get(track_i) != obj_i or delivered[track_i].label != objects[obj_i].label:
            continue
        if g_row not in best or ious[k] > best[g_row][0]:
            best[g_row] = (float(ious[k]), d_row)
    passing_rows = {d for _, d in best.values()}
    stationary_gt = np.array([objects[i].stationary for i in gt.owner], dtype=bool)
    d_stationary = np.array(
        [
            objects[assigned[t]].stationary if t in assigned else delivered[t].is_stationary
            for t in dv.owner.tolist()
        ],
        dtype=bool,
    )
    passing = np.zeros(len(dv.frames), dtype=bool)
    passing[list(passing_rows)] = True
    by_split = {}
    for name, flag in (("stationary", True), ("moving", False)):
        by_split[name] = Counts(
            int(np.sum(stationary_gt == flag)),
            int(np.sum(d_stationary == flag)),
            int(np.sum(passing & (d_stationary == flag))),
        )
    failing = [(delivered[int(dv.owner[r])].track_id, int(dv.frames[r])) for r in np.flatnonzero(~passing)]
    overall = Counts(len(gt.frames), len(dv.frames), int(passing.sum()))
    return Evaluation(overall, by_split, failing)
