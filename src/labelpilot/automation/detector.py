"""The built-in classical lidar detector: ground removal, clustering, box fitting, size rules.

No learning and no weights: it works on any lidar out of the box and gives candidates where no
detector output exists. Per sweep (ego frame): estimate the ground (``ground``), keep the points
between a little above the ground and the tallest road user, cluster them (``clustering``), fit a
footprint rectangle to each cluster (``footprint``, heading without a prior: the longer side is the
length) and keep the clusters whose size, height, ground contact and point count are plausible for
one of four kinds of road user. A partly seen car (one side, or an L shorter than a car) is grown
to a typical car on the side hidden from the sensor. The score in (0, 1] is a plausibility, not a
calibrated probability: size match x point support x ground contact.

Kinds and their output names: ``car``, ``large_vehicle``, ``pedestrian`` and ``cyclist`` map to
the scene's class names through ``DetectorParams.labels`` (KITTI names by default,
``AV2_LABELS`` for Argoverse 2); a kind left out of the map is not reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from labelpilot.automation.clustering import ClusterParams, cluster_members, euclidean_clusters
from labelpilot.automation.footprint import Rectangle, extend_to_prior, fit_rectangle, orient
from labelpilot.automation.ground import GroundModel, GroundParams, estimate_ground
from labelpilot.automation.sweep_access import SweepSource
from labelpilot.geometry import Cuboid
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Provenance, Track, TrackStatus

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

KITTI_LABELS: Mapping[str, str] = MappingProxyType(
    {"car": "Car", "large_vehicle": "Truck", "pedestrian": "Pedestrian", "cyclist": "Cyclist"}
)
AV2_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "car": "REGULAR_VEHICLE",
        "large_vehicle": "LARGE_VEHICLE",
        "pedestrian": "PEDESTRIAN",
        "cyclist": "BICYCLIST",
    }
)


@dataclass(frozen=True)
class KindRule:
    """What a kind of road user looks like to a lidar: footprint and height ranges (metres) of what
    is *seen*, the typical full size, and the fewest points a cluster needs."""

    length: tuple[float, float]
    width: tuple[float, float]
    height: tuple[float, float]
    typical: tuple[float, float, float]
    min_points: int


# Seen lengths start low because an occluded car may show only one end. A wall or a hedge is ruled
# out by its length, a tree trunk or a pole by its height (it reaches the 'max_height' cut).
# Rules are tried in this order; the first that fits names the kind.
DEFAULT_RULES: Mapping[str, KindRule] = MappingProxyType(
    {
        "car": KindRule((2.0, 6.0), (0.0, 2.4), (1.0, 2.3), (4.5, 1.85, 1.6), 20),
        "large_vehicle": KindRule((6.0, 13.5), (1.8, 3.2), (2.3, 4.3), (9.0, 2.6, 3.3), 40),
        "cyclist": KindRule((1.2, 2.2), (0.2, 1.0), (1.0, 2.0), (1.8, 0.7, 1.7), 10),
        "pedestrian": KindRule((0.2, 1.2), (0.1, 1.0), (1.1, 2.1), (0.7, 0.7, 1.75), 10),
    }
)


@dataclass(frozen=True)
class DetectorParams:
    max_range: float = 50.0
    """Only points within this xy distance of the sensor are looked at (sparse returns beyond)."""
    ground: GroundParams = field(default_factory=GroundParams)
    ground_tolerance: float = 0.25
    """Points at most this high above the ground are ground."""
    max_height: float = 4.3
    """Points higher above the ground are dropped (tree crowns, awnings, building fronts)."""
    cluster: ClusterParams = field(default_factory=ClusterParams)
    max_ground_gap: float = 0.6
    """A cluster's lowest point must be this close to the ground: road users stand on it."""
    rules: Mapping[str, KindRule] = field(default_factory=lambda: DEFAULT_RULES)
    labels: Mapping[str, str] = field(default_factory=lambda: KITTI_LABELS)
    """Kind -> the scene's class name; kinds not in the map are not reported."""
    support_points: float = 60.0
    """Point support of the score is 1 - exp(-points / support_points)."""
    min_score: float = 0.05


@dataclass(frozen=True, eq=False)
class Detection:
    """One detected road user: its box in the ego frame, the scene's class name, a score in (0, 1],
    the number of lidar points it rests on and the detector's own kind (``car``, ``pedestrian``, ...)."""

    cuboid_ego: Cuboid
    label: str
    score: float
    num_points: int
    kind: str


def _in_range(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


def _kind_of(rect: Rectangle, top: float, count: int, rules: Mapping[str, KindRule]) -> str | None:
    """The first kind whose rule the seen footprint and height satisfy (rules are tried in order)."""
    for kind, rule in rules.items():
        if (
            count >= rule.min_points
            and _in_range(rect.extent_along, rule.length)
            and _in_range(rect.extent_across, rule.width)
            and _in_range(top, rule.height)
        ):
            return kind
    return None


def _size_match(seen: tuple[float, float, float], typical: tuple[float, float, float]) -> float:
    """1 when the seen size equals the typical one, falling off with the relative difference of
    each dimension (a seen side shorter than typical is partial view and costs half)."""
    penalty = 0.0
    for s, t in zip(seen, typical, strict=True):
        rel = (s - t) / t
        penalty += (0.5 * rel if rel < 0 else rel) ** 2
    return float(np.exp(-penalty / 0.18))


class _FreeSpace:
    """Points that are not a given cluster (ground returns and other clusters) near a position:
    evidence of where a partly seen car is *not* (see ``footprint.extend_to_prior``)."""

    def __init__(self, ground_xy: FloatArray, obj_xy: FloatArray, obj_labels: IntArray) -> None:
        self._xy = np.concatenate([ground_xy, obj_xy])
        self._owner = np.concatenate([np.full(len(ground_xy), -2, dtype=np.int64), obj_labels])
        self._tree = cKDTree(self._xy) if len(self._xy) else None

    def near(self, center_xy: FloatArray, cluster: int) -> FloatArray:
        if self._tree is None:
            return np.zeros((0, 2))
        idx = np.asarray(self._tree.query_ball_point(center_xy, _EVIDENCE_RADIUS), dtype=np.int64)
        found: FloatArray = self._xy[idx[self._owner[idx] != cluster]]
        return found


def _detect_cluster(
    part: FloatArray, cluster: int, free: _FreeSpace, ground: GroundModel, params: DetectorParams
) -> Detection | None:
    heights = ground.height_above(part)
    bottom_gap, top = float(heights.min()), float(heights.max())
    if bottom_gap > params.max_ground_gap:
        return None
    if not any(len(part) >= r.min_points and _in_range(top, r.height) for r in params.rules.values()):
        return None  # settled before the (costlier) heading search
    rect = orient(fit_rectangle(part[:, :2]), None)
    kind = _kind_of(rect, top, len(part), params.rules)
    if kind is None or kind not in params.labels:
        return None
    rule = params.rules[kind]
    seen = (rect.extent_along, rect.extent_across, top)
    if kind == "car":
        rect = extend_to_prior(rect, rule.typical[:2], np.zeros(2), free.near(rect.center_xy, cluster))
    support = 1.0 - np.exp(-len(part) / params.support_points)
    contact = float(np.exp(-((bottom_gap / 0.3) ** 2)))
    score = _size_match(seen, rule.typical) * support * contact
    if score < params.min_score:
        return None
    bottom = float(ground.height_at(rect.center_xy)[0])
    center = (rect.center_xy[0], rect.center_xy[1], bottom + top / 2.0)
    size = (max(rect.extent_along, 0.1), max(rect.extent_across, 0.1), top)
    return Detection(Cuboid.from_yaw(center, size, rect.yaw), params.labels[kind], score, len(part), kind)


def detect(
    points_ego: ArrayLike, *, ground: GroundModel | None = None, params: DetectorParams | None = None
) -> list[Detection]:
    """Road users in one sweep ((N, >=3) points in the ego frame, sensor near the origin), best first."""
    prm = params or DetectorParams()
    p = np.asarray(points_ego, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 3:
        raise ValueError(f"points must be N x 3 or N x 4, got shape {p.shape}")
    xyz = p[np.all(np.isfinite(p[:, :3]), axis=1), :3]
    xyz = xyz[np.hypot(xyz[:, 0], xyz[:, 1]) <= prm.max_range]
    if len(xyz) == 0:
        return []
    ground = ground or estimate_ground(xyz, prm.ground)
    height = ground.height_above(xyz)
    above = (height > prm.ground_tolerance) & (height < prm.max_height)
    obj = xyz[above]
    labels = euclidean_clusters(obj, prm.cluster)
    on_ground = xyz[height <= prm.ground_tolerance, :2]
    # Thinned: a few ground returns per square metre are plenty of free-space evidence.
    free = _FreeSpace(on_ground[::_GROUND_EVIDENCE_STRIDE], obj[:, :2], labels)
    out: list[Detection] = []
    for cluster, members in enumerate(cluster_members(labels)):
        detection = _detect_cluster(obj[members], cluster, free, ground, prm)
        if detection is not None:
            out.append(detection)
    return sorted(out, key=lambda d: -d.score)


# Free-space evidence is looked for within this distance of a cluster's centre (a car's length).
_EVIDENCE_RADIUS = 5.0
_GROUND_EVIDENCE_STRIDE = 4


def detector_layer(
    scene: Scene,
    sweeps: SweepSource,
    name: str = "auto:classic",
    *,
    params: DetectorParams | None = None,
    frames: Iterable[int] | None = None,
) -> AnnotationLayer:
    """One single-frame candidate track per detection in every frame with a sweep (or ``frames``).

    Boxes go to the world frame through each frame's ``world_T_ego``. Without ``params`` the class
    names follow the scene's source format (Argoverse 2 names for ``av2`` scenes, else KITTI).
    """
    prm = params or DetectorParams(labels=AV2_LABELS if scene.source_format == "av2" else KITTI_LABELS)
    layer = AnnotationLayer(name, description="classical lidar detector: ground, clusters, size rules")
    for frame in range(len(scene.frames)) if frames is None else frames:
        points = sweeps.points_ego(frame)
        if points is None:
            continue
        world_T_ego = scene.frames[frame].world_T_ego
        for k, det in enumerate(detect(points, params=prm)):
            track = Track.keyframed(
                f"classic-{frame:06d}-{k:03d}",
                det.label,
                det.cuboid_ego.size,
                {frame: world_T_ego @ det.cuboid_ego.pose},
                provenance=Provenance("candidate", "classic"),
                status=TrackStatus.CANDIDATE,
                score=det.score,
            )
            track.frame_attributes[frame] = {"score": det.score, "num_points": det.num_points}
            layer.tracks.append(track)
    return layer
