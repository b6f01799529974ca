"""Fit a cuboid to the lidar points of one object, from a click or a rough box.

Steps: take the points near the seed, drop the ground (``ground``), cluster the rest
(``clustering``), pick the cluster(s) the seed points at and cut away what one object of the
prior size cannot hold, find the footprint rectangle and its heading (``footprint``: L-shape
closeness search or minimum-area rectangle; the seed's yaw resolves the 90/180 deg ambiguity),
complete a partly seen footprint to the prior size where the object is hidden; the bottom sits on
the ground, the top at the highest point.

Priors: a rough box gives yaw and size; a click may come with a yaw and a class label whose
typical size (``size_priors``) completes partly seen objects and bounds the search.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelpilot.automation.classes import ClassFamily, class_family
from labelpilot.automation.clustering import ClusterParams, cluster_members, euclidean_clusters
from labelpilot.automation.footprint import (
    HeadingMethod,
    extend_to_prior,
    fit_rectangle,
    orient,
    rectangle_at,
)
from labelpilot.automation.ground import GroundModel, GroundParams, estimate_ground
from labelpilot.automation.size_priors import SizePriors
from labelpilot.geometry import Cuboid, points_in_cuboid

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

_MEAN_SHIFT_STEPS = 3
# Metres a click may be off beyond the prior's half-diagonal; how far a vehicle without a typical
# size (a truck, a bus) can reach from a click.
_SEARCH_SLACK = 1.5
_LARGE_VEHICLE_REACH = 8.0


# --- class size priors --------------------------------------------------------------------------

_SIZE_PRIORS = SizePriors.builtin()
# A class whose length varies more than this (standard deviation, share of the mean, at least
# 0.3 m) has no typical size to complete objects with: trucks run from 6 m cabs to 12 m trailers.
_MAX_LENGTH_SPREAD = 0.25


def prior_size(label: str | None, priors: SizePriors | None = None) -> tuple[float, float, float] | None:
    """Typical (length, width, height) of a source class name from the size priors (built-in
    statistics by default); None for no label, or a class whose length varies too much."""
    if label is None:
        return None
    stats = (priors or _SIZE_PRIORS).stats(label)
    if stats.std[0] > max(_MAX_LENGTH_SPREAD * stats.mean[0], 0.3):
        return None
    return (float(stats.mean[0]), float(stats.mean[1]), float(stats.mean[2]))


# --- fitting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FitParams:
    ground_tolerance: float = 0.2
    """Points at most this high above the ground are ground."""
    max_height: float = 4.5
    """Without a prior size, points higher above the ground are ignored (tree crowns, awnings)."""
    cluster: ClusterParams = field(
        default_factory=lambda: ClusterParams(tolerance=0.5, voxel_size=None, min_points=3)
    )
    heading: HeadingMethod = "closeness"
    min_heading_points: int = 6
    """With fewer points the heading comes from the seed (or is 0)."""
    seed_margin: float = 0.75
    """A rough box, grown by this on every side, bounds which points can belong to the object."""
    click_sigma: float = 1.5
    """How far (metres) a click may be from the object's points that it means."""
    full_support_points: int = 50
    """From this many points on, the point count no longer lowers the quality."""
    prior_height_factor: float = 1.4
    """With a prior size, points higher than this times its height (+ 0.2 m) are not the object."""
    height_tolerance: float = 0.35
    """A click's candidate objects lose weight as their height departs from the prior by this share."""
    oversize_factor: float = 1.3
    """A candidate cluster wider (diagonal) than this times the prior's is cut around the seed."""
    seen_whole_share: float = 0.8
    """A side seen over this share of the prior size is not extended (see ``extend_to_prior``)."""
    inside_share: float = 0.8
    """Besides the best cluster, a rough box takes every cluster with at least this share of its points inside."""
    small_object_length: float = 1.2
    """Objects with a shorter prior (pedestrians) keep the seed's heading: their outline has none."""
    ground_margin: float = 10.0
    """Without a ground model, the ground is estimated from the points this far beyond the search radius."""


@dataclass(frozen=True, eq=False)
class FitResult:
    """The fitted cuboid, the number of object points it rests on, a quality in [0, 1] and the method.

    ``quality`` ranks fits for review: (visible share of the length) x (visible share of the width)
    x min(1, points / full_support_points); 0 when nothing was found. ``method`` is ``closeness`` or
    ``min_area`` (heading from the points), ``seed_yaw`` (too few points: heading from the seed) or
    ``seed`` (no object found: the seed is returned as a box).
    """

    cuboid: Cuboid
    num_points: int
    quality: float
    method: str


@dataclass(frozen=True)
class _Seed:
    center: FloatArray
    yaw: float | None
    size: tuple[float, float, float] | None
    box: Cuboid | None
    reach: float
    """Default search radius: the prior's half-diagonal + 1.5 m, or as far as the class can extend."""


def _make_seed(seed: Cuboid | ArrayLike, yaw: float | None, label: str | None) -> _Seed:
    if isinstance(seed, Cuboid):
        lwh = (float(seed.size[0]), float(seed.size[1]), float(seed.size[2]))
        reach = 0.5 * float(np.hypot(*lwh[:2])) + _SEARCH_SLACK
        return _Seed(np.asarray(seed.center), seed.yaw if yaw is None else yaw, lwh, seed, reach)
    center = np.asarray(seed, dtype=np.float64).reshape(-1)
    if center.size != 3 or not np.all(np.isfinite(center)):
        raise ValueError(f"a seed point needs 3 finite numbers, got {center.tolist()}")
    size = prior_size(label)
    if size is not None:
        reach = 0.5 * float(np.hypot(*size[:2])) + _SEARCH_SLACK
    else:
        reach = _LARGE_VEHICLE_REACH if class_family(label) == ClassFamily.VEHICLE else 4.0
    return _Seed(center, yaw, size, None, reach)


def _seed_box(seed: _Seed) -> Cuboid:
    lwh = seed.size or (1.0, 1.0, 1.0)
    return seed.box or Cuboid.from_yaw(seed.center, lwh, seed.yaw or 0.0)


def _mean_shift_cut(xy: FloatArray, seed_xy: FloatArray, half_diagonal: float, reach: float) -> BoolArray:
    """The points within ``half_diagonal`` of a centre found by a short mean shift from the seed:
    the centre moves to the mean of the points around it a few times."""
    center = seed_xy
    # The first step reaches as far as a click may miss; later steps only as far as the object.
    for radius in (half_diagonal + reach, *([half_diagonal] * _MEAN_SHIFT_STEPS)):
        near = np.hypot(*(xy - center).T) <= radius
        if not near.any():
            return np.ones(len(xy), dtype=np.bool_)
        center = xy[near].mean(axis=0)
    kept: BoolArray = np.hypot(*(xy - center).T) <= half_diagonal
    return kept


def _seed_part(obj: FloatArray, cluster: IndexArray, seed: _Seed, params: FitParams) -> IndexArray:
    """The points of a cluster (indices into ``obj``) that can belong to the seed's object.

    A cluster can run into a hedge, a wall, the next car or a row of parked bicycles: a rough box
    says where the object ends, and a cluster much larger than the prior size is cut down to the
    part around the seed that one object of that size can hold.
    """
    part = cluster
    if seed.box is not None:
        part = cluster[points_in_cuboid(obj[cluster], seed.box, params.seed_margin)]
    if seed.size is None or len(part) == 0:
        return part
    diagonal = float(np.hypot(*seed.size[:2]))
    if float(np.hypot(*np.ptp(obj[part, :2], axis=0))) <= params.oversize_factor * diagonal:
        return part
    reach = 0.0 if seed.box is not None else params.click_sigma
    return part[_mean_shift_cut(obj[part, :2], seed.center[:2], diagonal / 2.0, reach)]


def _seed_score(part: FloatArray, seed: _Seed, ground: GroundModel, params: FitParams) -> float:
    """How well a candidate set of points matches the seed: its point count inside a rough box,
    else its points' closeness to the click, lowered when its top is far from the prior height."""
    if len(part) == 0:
        return 0.0
    if seed.box is not None:
        return float(len(part))
    d2 = np.sum((part[:, :2] - seed.center[:2]) ** 2, axis=1)
    score = float(np.exp(-d2 / (2.0 * params.click_sigma**2)).sum())
    if seed.size is not None:
        ratio = float(ground.height_above(part).max()) / seed.size[2]
        score *= float(np.exp(-(((ratio - 1.0) / params.height_tolerance) ** 2)))
    return score


def _seed_object(obj: FloatArray, seed: _Seed, ground: GroundModel, params: FitParams) -> IndexArray:
    """Indices into ``obj`` of the object the seed means (possibly none)."""
    clusters = cluster_members(euclidean_clusters(obj, params.cluster)) if len(obj) else []
    parts = [_seed_part(obj, idx, seed, params) for idx in clusters]
    scores = [_seed_score(obj[part], seed, ground, params) for part in parts]
    if not scores or max(scores) <= 0.0:
        return np.zeros(0, dtype=np.int64)
    best = int(np.argmax(scores))
    if seed.box is None:
        return parts[best]
    # Occlusion can split an object into several clusters; a rough box also takes those lying
    # (nearly) wholly inside it, not grown by the margin: a pedestrian beside a car is not the car.
    box = seed.box
    whole = [
        k
        for k in range(len(parts))
        if k == best or np.mean(points_in_cuboid(obj[clusters[k]], box)) >= params.inside_share
    ]
    return np.concatenate([parts[k] for k in whole])


def _fit_points(
    points: FloatArray,
    seed: _Seed,
    ground: GroundModel | None,
    search_radius: float | None,
    params: FitParams,
    sensor_xy: FloatArray | None,
) -> FitResult:
    if search_radius is None:
        search_radius = seed.reach
    planar = np.hypot(points[:, 0] - seed.center[0], points[:, 1] - seed.center[1])
    if ground is None:
        near = points[planar <= search_radius + params.ground_margin]
        ground = estimate_ground(near, GroundParams(max_range=None)) if len(near) else None
    local = points[planar <= search_radius]
    if ground is None or len(local) == 0:
        return FitResult(_seed_box(seed), 0, 0.0, "seed")
    height = ground.height_above(local)
    ceiling = params.prior_height_factor * seed.size[2] + 0.2 if seed.size else params.max_height
    obj = local[(height > params.ground_tolerance) & (height < ceiling)]
    in_object = _seed_object(obj, seed, ground, params)
    if len(in_object) == 0:
        return FitResult(_seed_box(seed), 0, 0.0, "seed")
    part = obj[in_object]
    others = np.ones(len(obj), dtype=np.bool_)
    others[in_object] = False
    # Ground returns and other objects' points show where the object is not (see extend_to_prior).
    free_xy = np.concatenate([local[height <= params.ground_tolerance, :2], obj[others, :2]])
    xy = part[:, :2]
    method: str
    small = seed.size is not None and seed.size[0] < params.small_object_length and seed.yaw is not None
    if len(part) >= params.min_heading_points and not small:
        rect, method = orient(fit_rectangle(xy, params.heading), seed.yaw), params.heading
    else:
        rect, method = orient(rectangle_at(xy, seed.yaw or 0.0), seed.yaw), "seed_yaw"
    seen = (rect.extent_along, rect.extent_across)
    if seed.size is not None:
        rect = extend_to_prior(rect, seed.size[:2], sensor_xy, free_xy, params.seen_whole_share)
    bottom = float(ground.height_at(rect.center_xy)[0])
    top = float(part[:, 2].max())
    height_m = max(top - bottom, params.ground_tolerance)
    center = np.array([rect.center_xy[0], rect.center_xy[1], bottom + height_m / 2.0])
    length, width = max(rect.extent_along, 0.05), max(rect.extent_across, 0.05)
    coverage = min(1.0, seen[0] / length) * min(1.0, seen[1] / width)
    quality = coverage * min(1.0, len(part) / params.full_support_points)
    return FitResult(Cuboid.from_yaw(center, (length, width, height_m), rect.yaw), len(part), quality, method)


def _xyz(points: ArrayLike) -> FloatArray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 3:
        raise ValueError(f"points must be N x 3 or N x 4, got shape {p.shape}")
    xyz = p[:, :3]
    return xyz[np.all(np.isfinite(xyz), axis=1)]


def fit_box(
    points_ego: ArrayLike,
    seed: Cuboid | ArrayLike,
    *,
    ground: GroundModel | None = None,
    label: str | None = None,
    yaw: float | None = None,
    search_radius: float | None = None,
    params: FitParams | None = None,
) -> FitResult:
    """Fit a cuboid to the object at ``seed`` in one sweep (ego frame; the sensor at the ego origin).

    ``seed`` is a rough box (its yaw and size are priors) or a clicked point (3,); ``yaw`` overrides
    or supplies the heading prior, ``label`` a class whose typical size completes partly seen
    objects when the seed is a point. ``search_radius`` (metres, xy) defaults to the prior's
    half-diagonal + 1.5 m, or 4 m. ``ground`` defaults to an estimate from the nearby points.
    """
    prm = params or FitParams()
    return _fit_points(
        _xyz(points_ego), _make_seed(seed, yaw, label), ground, search_radius, prm, np.zeros(2)
    )


def fit_stationary(
    points_world_per_frame: list[FloatArray],
    seed_world: Cuboid,
    *,
    search_radius: float | None = None,
    params: FitParams | None = None,
) -> FitResult:
    """Fit one world-frame box to a stationary object from the points of all frames (each (N, >=3),
    already in the world frame: the caller applies each frame's ``world_T_ego``).

    The seed's yaw and size are the priors, as for a rough box in ``fit_box``. Many viewpoints show
    more of the object than one sweep, so a partly seen side is completed symmetrically (or where
    free space says) rather than away from one sensor position.
    """
    prm = params or FitParams()
    clouds = [_xyz(p) for p in points_world_per_frame]
    points = np.concatenate(clouds) if clouds else np.zeros((0, 3))
    return _fit_points(points, _make_seed(seed_world, None, None), None, search_radius, prm, None)
