"""Objects nobody labelled: clusters of lidar points shaped like a road user that no box covers.

Per sweep (ego frame): the ground is estimated (``ground``), the points between a little above it
and the tallest road user are clustered (``clustering``), and every cluster is tested in two ways:

* covered: more than ``covered_share`` of its points lie inside a box of the given layers grown by
  ``box_margin`` on every side (a box drawn a little small still covers its object);
* object-like: it stands on the ground (lowest point at most ``max_ground_gap`` above it), has at
  least ``min_points`` points and reaches ``min_height``, and either fits one of the classical
  detector's kinds (``detector.DEFAULT_RULES``: car, large vehicle, cyclist, pedestrian), or is
  within a looser vehicle envelope (seen footprint up to 6.5 x 3.2 m, top up to 2.6 m): a car seen
  only from one end, or merged with a person standing beside it, is still something to look at.
  Walls and hedges fail on the footprint, tall poles and trees on the height.

What is object-like and not covered is reported. Only the layers passed in are read.

On the three Argoverse 2 sample sweeps (7fab2350 frames 116 and 117, adcf7d18 frame 0) with every
ground-truth box given, 15, 16 and 27 clusters are still reported (unlabelled street furniture,
bushes, things outside the annotated area); with the vehicles and pedestrians of >= 50 interior
points within 40 m removed, 15 of 17, 13 of 17 and 17 of 18 of them are found (a flag inside the
removed box's footprint grown by 1 m). ``benchmarks/bench_automation_flags.py`` measures this again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from labelpilot.automation.clustering import ClusterParams, cluster_members, euclidean_clusters
from labelpilot.automation.detector import DEFAULT_RULES, KindRule
from labelpilot.automation.footprint import Rectangle, fit_rectangle, orient
from labelpilot.automation.ground import GroundModel, GroundParams, estimate_ground
from labelpilot.automation.sweep_access import SweepSource
from labelpilot.geometry import CuboidBatch, points_in_cuboids
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, world_shapes

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


KEPT_POINTS = 256
"""Points kept per cluster for the coverage test: a share is as well judged from an even stride."""
POINTS_SCALE = 60.0
"""A cluster of this many points is something with certainty 1 - 1/e (``point_strength``)."""


def point_strength(points: int, scale: float = POINTS_SCALE) -> float:
    """How sure a cluster of ``points`` points is to be something: 0 for none, towards 1 for many."""
    return float(1.0 - np.exp(-points / scale))


def kind_phrase(kind: str) -> str:
    """'a car-like cluster', 'an object-like cluster'."""
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}-like cluster"


@dataclass(frozen=True)
class MissedParams:
    max_range: float = 50.0
    """Only points this close to the sensor (xy) are looked at: beyond, clusters are too sparse to judge."""
    ground: GroundParams = field(default_factory=GroundParams)
    ground_tolerance: float = 0.25
    max_height: float = 4.3
    max_ground_gap: float = 0.6
    """A road user stands on the ground: its lowest point is at most this high above it."""
    cluster: ClusterParams = field(default_factory=ClusterParams)
    min_points: int = 10
    min_height: float = 1.0
    """The top of a road user is at least this high above the ground (kerbs and low walls are not)."""
    rules: Mapping[str, KindRule] = field(default_factory=lambda: DEFAULT_RULES)
    loose_footprint: tuple[float, float] = (6.5, 3.2)
    loose_max_height: float = 2.6
    """A cluster no rule fits is still reported when its seen footprint and top are within these
    (a car seen from one end, or merged with a person beside it)."""
    box_margin: float = 0.5
    covered_share: float = 0.2


@dataclass(frozen=True, eq=False)
class ObjectCluster:
    """An object-like cluster of one sweep, before anything is known of the boxes around it: its
    points (ego frame; at most ``KEPT_POINTS`` of them, evenly strided, enough to tell which share a
    box covers) and how many it had, the detector kind it resembles and its fitted footprint (ego
    frame) with its top above the ground and the ground under its centre. It depends on the sweep
    alone, so it can be kept while people edit boxes (``object_clusters``)."""

    points: FloatArray
    point_count: int
    kind: str
    footprint: Rectangle
    top: float
    ground_z: float

    @property
    def center_ego(self) -> FloatArray:
        """The footprint centre on the ground plus half the cluster's height."""
        c = self.footprint.center_xy
        return np.array([c[0], c[1], self.ground_z + self.top / 2.0])


@dataclass(frozen=True, eq=False)
class MissedCluster:
    """An object-like cluster no box covers, at ``frame``: its footprint centre (on the ground plus
    half its height) in the world and ego frames, its points, the detector kind it resembles, its
    distance from the ego origin in the ground plane, and the box it suggests in the world frame
    (``yaw_world`` of the footprint's first axis, ``size`` = extents along, across and its top)."""

    frame: int
    center_world: FloatArray
    center_ego: FloatArray
    points: int
    kind: str
    range_m: float
    yaw_world: float
    size: FloatArray


def _layer_boxes_ego(scene: Scene, layers: Sequence[AnnotationLayer], frame: int) -> CuboidBatch:
    ego_T_world = scene.frames[frame].world_T_ego.inverse()
    cuboids = [
        world_shapes(track, [frame]).cuboids[0].transformed(ego_T_world)
        for layer in layers
        for track in layer.tracks
        if track.has_shape(frame)
    ]
    return CuboidBatch.from_cuboids(cuboids)


def _kind(rect: Rectangle, top: float, count: int, rules: Mapping[str, KindRule]) -> str | None:
    """The first kind of road user whose footprint, height and point count the cluster fits."""
    for kind, rule in rules.items():
        if (
            count >= rule.min_points
            and rule.length[0] <= rect.extent_along <= rule.length[1]
            and rule.width[0] <= rect.extent_across <= rule.width[1]
            and rule.height[0] <= top <= rule.height[1]
        ):
            return kind
    return None


def _object_like(part: FloatArray, ground: GroundModel, prm: MissedParams) -> ObjectCluster | None:
    heights = ground.height_above(part)
    bottom_gap, top = float(heights.min()), float(heights.max())
    if bottom_gap > prm.max_ground_gap or top < prm.min_height or len(part) < prm.min_points:
        return None  # settled before the costlier footprint fit
    rect = orient(fit_rectangle(part[:, :2]), None)
    kind = _kind(rect, top, len(part), prm.rules)
    if kind is None and (
        rect.extent_along <= prm.loose_footprint[0]
        and rect.extent_across <= prm.loose_footprint[1]
        and top <= prm.loose_max_height
    ):
        kind = "object"
    if kind is None:
        return None
    kept = part[:: -(-len(part) // KEPT_POINTS)]
    return ObjectCluster(kept, len(part), kind, rect, top, float(ground.height_at(rect.center_xy)[0]))


def object_clusters(
    sweeps: SweepSource, frame: int, params: MissedParams | None = None
) -> list[ObjectCluster]:
    """The object-like clusters of ``frame``'s sweep (none without a sweep): the costly half of
    ``missed_clusters`` (a ground estimate and a clustering), which no box takes part in."""
    prm = params or MissedParams()
    cloud = sweeps.points_ego(frame)
    if cloud is None:
        return []
    xyz = np.asarray(cloud[:, :3], dtype=np.float64)
    xyz = xyz[np.all(np.isfinite(xyz), axis=1)]
    xyz = xyz[np.hypot(xyz[:, 0], xyz[:, 1]) <= prm.max_range]
    if len(xyz) == 0:
        return []
    ground = estimate_ground(xyz, prm.ground)
    height = ground.height_above(xyz)
    obj = xyz[(height > prm.ground_tolerance) & (height < prm.max_height)]
    if len(obj) == 0:
        return []
    parts = cluster_members(euclidean_clusters(obj, prm.cluster))
    judged = (_object_like(obj[members], ground, prm) for members in parts)
    return [c for c in judged if c is not None]


def uncovered_clusters(
    scene: Scene,
    layers: Sequence[AnnotationLayer],
    frame: int,
    clusters: Sequence[ObjectCluster],
    params: MissedParams | None = None,
) -> list[MissedCluster]:
    """Those of ``frame``'s ``clusters`` that no box of ``layers`` covers, placed in the world."""
    prm = params or MissedParams()
    boxes = _layer_boxes_ego(scene, layers, frame)
    world_T_ego = scene.frames[frame].world_T_ego
    covered = np.zeros(len(clusters), dtype=np.bool_)
    if len(boxes) and clusters:
        # All kept points of the frame in one test (one k-d tree), then each cluster's share.
        counts = np.array([len(c.points) for c in clusters])
        inside = points_in_cuboids(np.concatenate([c.points for c in clusters]), boxes, prm.box_margin)
        shares = np.add.reduceat(inside.any(axis=0).astype(np.float64), np.cumsum(counts) - counts) / counts
        covered = shares > prm.covered_share
    found: list[MissedCluster] = []
    for cluster, hidden in zip(clusters, covered, strict=True):
        if hidden:
            continue
        center = cluster.center_ego
        rect = cluster.footprint
        found.append(
            MissedCluster(
                frame,
                world_T_ego.apply(center),
                center,
                cluster.point_count,
                cluster.kind,
                float(np.hypot(center[0], center[1])),
                float(rect.yaw + world_T_ego.yaw),
                np.array([rect.extent_along, rect.extent_across, cluster.top]),
            )
        )
    return found


def missed_clusters(
    scene: Scene,
    layers: Sequence[AnnotationLayer],
    sweeps: SweepSource,
    frame: int,
    params: MissedParams | None = None,
) -> list[MissedCluster]:
    """Object-like clusters of ``frame``'s sweep that no box of ``layers`` covers (none without a sweep)."""
    return uncovered_clusters(scene, layers, frame, object_clusters(sweeps, frame, params), params)
