"""Footprint rectangles of lidar objects in bird's-eye view: heading, extents, completion.

Heading: an object seen by a lidar shows at most two of its sides, an "L". The default search
tries every angle in [0, 90 deg) and keeps the one whose rectangle edges the points hug most
closely (the closeness criterion of Zhang et al., "Efficient L-shape fitting for vehicle detection
using laser scanners", IV 2017). The alternative is the minimum-area rectangle of the footprint
(shapely's ``minimum_rotated_rectangle``), which is good for fully seen objects but tilts on L's.
A rectangle has four candidate headings 90 deg apart; a prior yaw chooses among them (resolving
the 90/180 deg ambiguity), else the longer side is the length.

Completion: a partly seen footprint grows to a prior size on the side where the object is hidden
(``extend_to_prior``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from labelpilot.geometry import normalize_yaw, yaw_difference

FloatArray = NDArray[np.float64]

HeadingMethod = Literal["closeness", "min_area"]

_HALF_PI = np.pi / 2.0
# A strip counts as seen free only when it holds this many non-object points and the other none.
_FREE_EVIDENCE_POINTS = 3


@dataclass(frozen=True)
class Rectangle:
    """A footprint: centre, heading of its first axis, and the extents along the first/second axis."""

    center_xy: FloatArray
    yaw: float
    extent_along: float
    extent_across: float


# Beyond this many points the heading search uses an evenly strided subset: the angle barely moves.
_MAX_HEADING_POINTS = 1500
# Distances below this do not count as 'closer' (a few cm: the lidar's own noise).
_CLOSENESS_FLOOR = 0.05


def _closeness(xy: FloatArray, angles: FloatArray) -> FloatArray:
    """Closeness score of each candidate angle: points near the rectangle edges score high."""
    cos, sin = np.cos(angles), np.sin(angles)
    along = xy[:, :1] * cos + xy[:, 1:] * sin  # (N, A)
    across = -xy[:, :1] * sin + xy[:, 1:] * cos
    d_along = np.minimum(along.max(axis=0) - along, along - along.min(axis=0))
    d_across = np.minimum(across.max(axis=0) - across, across - across.min(axis=0))
    nearest_edge = np.maximum(np.minimum(d_along, d_across), _CLOSENESS_FLOOR)
    score: FloatArray = (1.0 / nearest_edge).sum(axis=0)
    return score


def _closeness_angle(xy: FloatArray) -> float:
    if len(xy) > _MAX_HEADING_POINTS:
        xy = xy[:: int(np.ceil(len(xy) / _MAX_HEADING_POINTS))]
    centred = xy - xy.mean(axis=0)
    coarse = np.deg2rad(np.arange(0.0, 90.0, 1.0))
    best = float(coarse[int(np.argmax(_closeness(centred, coarse)))])
    fine = best + np.deg2rad(np.arange(-1.0, 1.0001, 0.1))
    return float(fine[int(np.argmax(_closeness(centred, fine)))])


def _min_area_angle(xy: FloatArray) -> float:
    rect = shapely.minimum_rotated_rectangle(shapely.multipoints(xy))
    if not isinstance(rect, shapely.Polygon):
        return 0.0  # all points on one line or one spot: no rectangle to take a heading from
    ring = np.asarray(rect.exterior.coords)
    edge = ring[1] - ring[0]
    return float(np.arctan2(edge[1], edge[0]))


def fit_rectangle(xy: ArrayLike, method: HeadingMethod = "closeness") -> Rectangle:
    """The bounding rectangle of (N, 2) points at the heading the method finds (yaw in [0, pi/2))."""
    pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        raise ValueError("cannot fit a rectangle to no points")
    angle = _closeness_angle(pts) if method == "closeness" else _min_area_angle(pts)
    return rectangle_at(pts, float(np.mod(angle, _HALF_PI)))


def rectangle_at(xy: FloatArray, yaw: float) -> Rectangle:
    """The bounding rectangle of the points with its first axis at ``yaw``."""
    axis = np.array([np.cos(yaw), np.sin(yaw)])
    normal = np.array([-axis[1], axis[0]])
    along, across = xy @ axis, xy @ normal
    mid_along = (along.max() + along.min()) / 2.0
    mid_across = (across.max() + across.min()) / 2.0
    return Rectangle(
        mid_along * axis + mid_across * normal,
        yaw,
        float(along.max() - along.min()),
        float(across.max() - across.min()),
    )


def orient(rect: Rectangle, prior_yaw: float | None) -> Rectangle:
    """Pick which side is the length and which way is forward.

    With a prior heading: the one of the four headings closest to it. Without: the longer side is
    the length, pointing into (-pi/2, pi/2] (a lidar cannot tell front from back).
    """
    candidates = rect.yaw + _HALF_PI * np.arange(4)
    if prior_yaw is not None:
        k = int(np.argmin(np.abs(yaw_difference(candidates, prior_yaw))))
    else:
        k = 0 if rect.extent_along >= rect.extent_across else 1
        if abs(float(normalize_yaw(candidates[k]))) > _HALF_PI:
            k += 2
    swapped = k % 2 == 1
    return Rectangle(
        rect.center_xy,
        float(normalize_yaw(candidates[k])),
        rect.extent_across if swapped else rect.extent_along,
        rect.extent_along if swapped else rect.extent_across,
    )


def _blocked(local: FloatArray, axis: int, low: float, high: float, across: tuple[float, float]) -> int:
    """How many of the points (rectangle coordinates) lie in a strip of the footprint."""
    other = local[:, 1 - axis]
    inside = (local[:, axis] > low) & (local[:, axis] < high) & (other >= across[0]) & (other <= across[1])
    return int(np.count_nonzero(inside))


def extend_to_prior(
    rect: Rectangle,
    prior_lw: tuple[float, float],
    sensor_xy: FloatArray | None,
    free_xy: FloatArray | None = None,
    seen_whole_share: float = 0.8,
) -> Rectangle:
    """Grow a partly seen footprint to the prior length/width on the side where the object is hidden.

    ``free_xy`` are points that are not the object (ground returns, other objects): a strip where
    they lie is seen to be free, so the object grows into the other direction. When both strips
    are equally free the side nearer the sensor is kept (the far side is the hidden one); without
    a sensor position (points from many viewpoints) the growth is symmetric. A side seen over at
    least ``seen_whole_share`` of the prior is taken as seen whole: the object is just smaller.
    """
    axes = np.array([[np.cos(rect.yaw), np.sin(rect.yaw)], [-np.sin(rect.yaw), np.cos(rect.yaw)]])
    center = rect.center_xy.copy()
    half = [rect.extent_along / 2.0, rect.extent_across / 2.0]
    free = np.zeros((0, 2)) if free_xy is None else (free_xy - rect.center_xy) @ axes.T
    for i in range(2):
        grow = prior_lw[i] - 2.0 * half[i]
        if grow <= 0.0 or 2.0 * half[i] >= seen_whole_share * prior_lw[i]:
            continue
        span = (-half[1 - i], half[1 - i])
        against_plus = _blocked(free, i, half[i], half[i] + grow, span)
        against_minus = _blocked(free, i, -half[i] - grow, -half[i], span)
        if (
            min(against_plus, against_minus) == 0
            and max(against_plus, against_minus) >= _FREE_EVIDENCE_POINTS
        ):
            sign = 1.0 if against_plus < against_minus else -1.0
        elif sensor_xy is not None:
            sign = -1.0 if float((sensor_xy - rect.center_xy) @ axes[i]) >= 0.0 else 1.0
        else:
            sign = 0.0
        shift = sign * grow / 2.0
        center = center + shift * axes[i]
        free[:, i] -= shift
        half[i] = prior_lw[i] / 2.0
    return Rectangle(center, rect.yaw, 2.0 * half[0], 2.0 * half[1])
