"""Suppress duplicate detections: two boxes of one frame that describe one object.

Some sources report an object more than once in a frame, e.g. a tracker that keeps one hypothesis
per class (the Argoverse 2 tracker output holds a car box and a small pedestrian box on the same
spot, at about 150 such pairs in a frame of 200 boxes). Associating both would start a second,
spurious track beside the real one.

Two detections of one frame with compatible classes are duplicates when the ground-plane centre of
either lies inside the other's footprint: two real objects cannot overlap that much (a pedestrian
beside a car has its centre outside the car). Greedy non-maximum suppression keeps the more confident
one: detections are visited from the most confident down and each kept one suppresses its duplicates.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from labelpilot.automation.association import DetectionSet

BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]


def _centre_inside(dets: DetectionSet, box: IntArray, point: IntArray) -> BoolArray:
    """Whether the centre of detection ``point[k]`` lies inside the footprint of detection ``box[k]``."""
    offset = dets.centers[point, :2] - dets.centers[box, :2]
    cos, sin = np.cos(dets.yaws[box]), np.sin(dets.yaws[box])
    along = offset[:, 0] * cos + offset[:, 1] * sin
    across = -offset[:, 0] * sin + offset[:, 1] * cos
    inside: BoolArray = (np.abs(along) <= dets.sizes[box, 0] / 2) & (np.abs(across) <= dets.sizes[box, 1] / 2)
    return inside


def duplicate_mask(dets: DetectionSet, usable: BoolArray) -> BoolArray:
    """(N,) True for usable detections suppressed as duplicates of a more confident one."""
    suppressed = np.zeros(len(dets), dtype=bool)
    candidates = np.flatnonzero(usable)
    if len(candidates) < 2:
        return suppressed
    # A centre inside a footprint lies within the footprint's half-diagonal of its centre.
    radius = float(np.max(np.hypot(dets.sizes[candidates, 0], dets.sizes[candidates, 1]))) / 2
    # Frames set apart along a third axis by more than the scene's extent plus the search radius,
    # so that the neighbour search never pairs two frames.
    separation = float(np.ptp(dets.centers[candidates, :2])) + 2.0 * radius + 1.0
    keys = np.column_stack([dets.centers[candidates, :2], dets.frames[candidates] * separation])
    pairs = cKDTree(keys).query_pairs(radius, output_type="ndarray")
    if len(pairs) == 0:
        return suppressed
    a, b = candidates[pairs[:, 0]], candidates[pairs[:, 1]]
    codes_a, codes_b = dets.label_codes[a], dets.label_codes[b]
    compatible = (codes_a == codes_b) | dets.wildcard_codes[codes_a] | dets.wildcard_codes[codes_b]
    overlapping = compatible & (_centre_inside(dets, a, b) | _centre_inside(dets, b, a))
    a, b = a[overlapping], b[overlapping]
    # Rank 0 is the most confident; ties go to the earlier detection.
    rank = np.empty(len(dets), dtype=np.int64)
    rank[np.lexsort((np.arange(len(dets)), -dets.confidences))] = np.arange(len(dets))
    stronger = np.where(rank[a] < rank[b], a, b)
    weaker = np.where(rank[a] < rank[b], b, a)
    # Visiting pairs by the rank of their stronger member settles each detection before it suppresses.
    order = np.argsort(rank[stronger], kind="stable")
    for strong, weak in zip(stronger[order].tolist(), weaker[order].tolist(), strict=True):
        if not suppressed[strong]:
            suppressed[weak] = True
    return suppressed
