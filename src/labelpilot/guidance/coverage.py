"""Which candidates already have a track: the same object, in the world frame, over shared frames.

A candidate is covered by a track when, over the frames where both have a shape, the two are the same
object in at least half of them: their ground-plane centres lie within the family's match distance
(2 m for vehicles, 1 m for everything else, the larger of the two tracks' families; the distances of
the KITTI tracking benchmark) or their footprints overlap with a BEV IoU of at least ``MIN_BEV_IOU``
(long vehicles whose centres are placed differently). A candidate covered by a person's track needs
no action, and of two candidates of the same object from different layers only the first keeps its
actions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from labelpilot.automation.classes import ClassFamily, class_family
from labelpilot.geometry import CuboidBatch, bev_iou_pairs
from labelpilot.tracks import Track, world_shapes

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

MATCH_DISTANCE_M: dict[ClassFamily, float] = {ClassFamily.VEHICLE: 2.0}
OTHER_MATCH_DISTANCE_M = 1.0
MIN_BEV_IOU = 0.1
MIN_SHARED_SHARE = 0.5
"""Share of the shared frames in which the two must be the same object."""


def match_distance(label: str) -> float:
    """Centre distance (m) within which two shapes of this class are taken as one object."""
    return MATCH_DISTANCE_M.get(class_family(label), OTHER_MATCH_DISTANCE_M)


class _Shapes:
    """The world shapes of some tracks as flat arrays, grouped by frame."""

    def __init__(self, tracks: Sequence[Track]) -> None:
        shapes = [world_shapes(t) for t in tracks]
        self.frame_sets = [set(s.frames.tolist()) for s in shapes]
        self.limits = np.array([match_distance(t.label) for t in tracks], dtype=np.float64)
        frames = [s.frames for s in shapes]
        self.frames = np.concatenate(frames) if frames else np.zeros(0, dtype=np.int64)
        self.owner = np.repeat(np.arange(len(shapes), dtype=np.int64), [len(s) for s in shapes])
        self.boxes = CuboidBatch(
            np.concatenate([s.cuboids.centers for s in shapes]) if shapes else np.zeros((0, 3)),
            np.concatenate([s.cuboids.sizes for s in shapes]) if shapes else np.zeros((0, 3)),
            np.concatenate([s.cuboids.quats_xyzw for s in shapes]) if shapes else np.zeros((0, 4)),
        )
        self._order = np.argsort(self.frames, kind="stable")
        self._sorted = self.frames[self._order]

    def rows_at(self, frame: int) -> IntArray:
        lo, hi = np.searchsorted(self._sorted, [frame, frame + 1])
        rows: IntArray = self._order[lo:hi]
        return rows

    def pick(self, rows: IntArray) -> CuboidBatch:
        return CuboidBatch(self.boxes.centers[rows], self.boxes.sizes[rows], self.boxes.quats_xyzw[rows])


def _same_object(a: _Shapes, rows_a: IntArray, b: _Shapes, rows_b: IntArray) -> NDArray[np.bool_]:
    """(len(rows_a), len(rows_b)): whether each pair of shapes (one frame) is one object."""
    delta = a.boxes.centers[rows_a, None, :2] - b.boxes.centers[None, rows_b, :2]
    distance = np.hypot(delta[..., 0], delta[..., 1])
    limit = np.maximum(a.limits[a.owner[rows_a]][:, None], b.limits[b.owner[rows_b]][None, :])
    same = distance <= limit
    # Overlap decides only for pairs near enough to overlap at all (half lengths plus a margin).
    reach = 0.5 * (a.boxes.sizes[rows_a, 0][:, None] + b.boxes.sizes[rows_b, 0][None, :]) + 0.5
    ia, ib = np.nonzero(~same & (distance <= reach))
    if len(ia):
        same[ia, ib] = bev_iou_pairs(a.pick(rows_a[ia]), b.pick(rows_b[ib])) >= MIN_BEV_IOU
    return same


def covering_tracks(candidates: Sequence[Track], tracks: Sequence[Track]) -> list[int | None]:
    """For each candidate, the index in ``tracks`` of the track that covers it (the one that is the
    same object in the largest share of their shared frames), or None."""
    if not candidates or not tracks:
        return [None] * len(candidates)
    cand, other = _Shapes(candidates), _Shapes(tracks)
    hits = np.zeros((len(candidates), len(tracks)), dtype=np.int64)
    for frame in np.intersect1d(cand.frames, other.frames).tolist():
        rows_a, rows_b = cand.rows_at(frame), other.rows_at(frame)
        ia, ib = np.nonzero(_same_object(cand, rows_a, other, rows_b))
        # One shape per track and frame: each (candidate, track) pair counts a frame at most once.
        np.add.at(hits, (cand.owner[rows_a[ia]], other.owner[rows_b[ib]]), 1)
    out: list[int | None] = []
    for i in range(len(candidates)):
        best: tuple[float, int, int] | None = None
        for j in np.flatnonzero(hits[i]).tolist():
            shared = len(cand.frame_sets[i] & other.frame_sets[j])
            share = hits[i, j] / shared
            key = (share, int(hits[i, j]), -j)
            if share >= MIN_SHARED_SHARE and (best is None or key > best):
                best = key
        out.append(None if best is None else -best[2])
    return out


def uncovered(candidates: Sequence[Track], tracks: Sequence[Track]) -> list[Track]:
    """The candidates that no track of ``tracks`` covers, in their given order."""
    found = covering_tracks(candidates, tracks)
    return [c for c, j in zip(candidates, found, strict=True) if j is None]
