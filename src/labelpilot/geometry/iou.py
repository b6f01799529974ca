"""Intersection over union of cuboids, in bird's-eye view (BEV) and in 3D.

Boxes are treated as yaw-rotated: the footprint is the length x width rectangle turned by the
box's yaw (``CuboidBatch.yaws``) and the vertical extent is centre z +- height / 2. Pitch and
roll are ignored, as in the KITTI, nuScenes and Argoverse evaluation protocols. Footprint
intersections come from shapely 2's vectorised functions; the all-pairs versions first ask an
STRtree which footprints' bounding rectangles touch, so far-apart pairs cost nothing.

A box with zero length or width (or zero height, in 3D) overlaps nothing: its IoU is 0, never NaN.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import shapely
from numpy.typing import NDArray

from labelpilot.geometry.cuboids import CuboidBatch

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
GeometryArray = NDArray[np.object_]
IndexArray = NDArray[np.intp]

# Footprint corners of a unit rectangle, counter-clockwise; shapely closes the ring itself.
_UNIT_FOOTPRINT = np.array([[0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5]])


def _footprint_corners(boxes: CuboidBatch) -> FloatArray:
    """(N, 4, 2) footprint corners in the parent xy plane."""
    yaws = boxes.yaws
    cos, sin = np.cos(yaws), np.sin(yaws)
    rot = np.stack([np.stack([cos, -sin], axis=-1), np.stack([sin, cos], axis=-1)], axis=-2)
    local = _UNIT_FOOTPRINT[None, :, :] * boxes.sizes[:, None, :2]
    turned: FloatArray = np.einsum("nij,nkj->nki", rot, local)
    return turned + boxes.centers[:, None, :2]


class _Footprints(NamedTuple):
    polygons: GeometryArray
    """Footprint polygons; None for flat boxes (GEOS may reject collapsed rings, and an STRtree
    never returns None entries, so flat boxes drop out of every candidate list)."""
    has_area: BoolArray


def _footprints(boxes: CuboidBatch) -> _Footprints:
    has_area: BoolArray = (boxes.sizes[:, 0] > 0.0) & (boxes.sizes[:, 1] > 0.0)
    polygons = np.full(len(boxes), None, dtype=object)
    if np.any(has_area):
        polygons[has_area] = shapely.polygons(_footprint_corners(boxes)[has_area])
    return _Footprints(polygons, has_area)


def _z_ranges(boxes: CuboidBatch) -> tuple[FloatArray, FloatArray]:
    half_height = boxes.sizes[:, 2] / 2.0
    return boxes.centers[:, 2] - half_height, boxes.centers[:, 2] + half_height


def _ratio(intersection: FloatArray, size_a: FloatArray, size_b: FloatArray) -> FloatArray:
    """intersection / union, 0 where the union is empty, clipped against rounding past 1."""
    union = size_a + size_b - intersection
    iou = np.divide(intersection, union, out=np.zeros_like(intersection), where=union > 0.0)
    clipped: FloatArray = np.clip(iou, 0.0, 1.0)
    return clipped


def _pair_ious(
    a: CuboidBatch,
    b: CuboidBatch,
    ia: IndexArray,
    ib: IndexArray,
    three_d: bool,
    footprints: tuple[_Footprints, _Footprints] | None = None,
) -> FloatArray:
    """IoU of the pairs (a[ia[k]], b[ib[k]])."""
    fa, fb = footprints if footprints is not None else (_footprints(a), _footprints(b))
    overlap = np.zeros(len(ia))
    both = fa.has_area[ia] & fb.has_area[ib]
    if np.any(both):
        overlap[both] = shapely.area(shapely.intersection(fa.polygons[ia[both]], fb.polygons[ib[both]]))
    size_a = a.sizes[ia, 0] * a.sizes[ia, 1]
    size_b = b.sizes[ib, 0] * b.sizes[ib, 1]
    if three_d:
        low_a, high_a = _z_ranges(a)
        low_b, high_b = _z_ranges(b)
        height = np.minimum(high_a[ia], high_b[ib]) - np.maximum(low_a[ia], low_b[ib])
        overlap = overlap * np.maximum(height, 0.0)
        size_a = size_a * a.sizes[ia, 2]
        size_b = size_b * b.sizes[ib, 2]
    return _ratio(overlap, size_a, size_b)


def _matrix(a: CuboidBatch, b: CuboidBatch, three_d: bool) -> FloatArray:
    out = np.zeros((len(a), len(b)))
    if len(a) == 0 or len(b) == 0:
        return out
    fa, fb = _footprints(a), _footprints(b)
    # Pairs whose footprints' bounding rectangles touch: a superset of the overlapping pairs.
    pairs = np.asarray(shapely.STRtree(fb.polygons).query(fa.polygons), dtype=np.intp)
    if pairs.shape[1]:
        ia, ib = pairs[0], pairs[1]
        out[ia, ib] = _pair_ious(a, b, ia, ib, three_d, (fa, fb))
    return out


def _aligned(a: CuboidBatch, b: CuboidBatch, three_d: bool) -> FloatArray:
    if len(a) != len(b):
        raise ValueError(f"pairwise IoU needs batches of equal length, got {len(a)} and {len(b)}")
    idx = np.arange(len(a), dtype=np.intp)
    return _pair_ious(a, b, idx, idx, three_d)


def bev_iou(a: CuboidBatch, b: CuboidBatch) -> FloatArray:
    """(len(a), len(b)) bird's-eye-view IoU of every box in a with every box in b."""
    return _matrix(a, b, three_d=False)


def iou_3d(a: CuboidBatch, b: CuboidBatch) -> FloatArray:
    """(len(a), len(b)) 3D IoU (yaw-rotated footprint x vertical extent) of all pairs."""
    return _matrix(a, b, three_d=True)


def bev_iou_pairs(a: CuboidBatch, b: CuboidBatch) -> FloatArray:
    """(N,) bird's-eye-view IoU of a[i] with b[i], for batches of equal length N."""
    return _aligned(a, b, three_d=False)


def iou_3d_pairs(a: CuboidBatch, b: CuboidBatch) -> FloatArray:
    """(N,) 3D IoU of a[i] with b[i], for batches of equal length N."""
    return _aligned(a, b, three_d=True)
