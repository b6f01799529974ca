"""Hints of objects nobody labelled, one per object rather than one per frame of it.

The evidence is object-like clusters of lidar points that no box covers (``missed_objects``). The same
parked car is such a cluster in every sweep that sees it; a person wants to look at it once. The
clusters are associated across frames by the candidates' own tracker (``association``; gated in the
world frame, so a parked object stays one hint while the ego drives past and a moving one is
followed), and every associated group becomes one ``MissedHint``: the frames it was seen in, the frame
with the most points where the editor opens it, and the box seen there, which the person can take as
the start of a track instead of drawing one.

Detections that no candidate explains are not hints: on the KITTI tracking sequences 0001, 0004 and
0009, the weak PointRCNN detections left over after candidate building, associated the same way (at
least 3 in a row), made 87 such groups, and none of them lay within 2 m of a labelled object; the
candidates already follow nearly every object the detector sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from labelpilot.automation.association import AssociationParams, DetectionSet, associate, frame_times
from labelpilot.automation.detector import AV2_LABELS, KITTI_LABELS
from labelpilot.automation.missed_objects import POINTS_SCALE, MissedCluster, kind_phrase, point_strength
from labelpilot.scenes import Scene

FloatArray = NDArray[np.float64]

GROUPING = AssociationParams(birth_confidence=0.0, max_misses=2, suppress_duplicates=False)
"""How one object's evidence in nearby frames becomes one hint: anything may start a group; a group
ends two frames with evidence after its last (the same object seen again later is a new hint)."""
_WILDCARD = "unknown"


@dataclass(frozen=True)
class HintParams:
    cluster_points_scale: float = POINTS_SCALE
    """A hint's strength grows with the points of its best cluster: this many give 1 - 1/e."""
    frames_scale: float = 2.0
    """... and with the frames it was seen in: this many give 1 - 1/e (one sweep may be noise)."""
    stationary_spread_m: float = 3.5
    """A hint whose clusters' centres stay within this (ground plane, any axis) is a stationary object:
    on the demo drive the parked cars' centres wander up to ~2.2 m as the ego passes and sees other
    parts of them, a car driving along moved 37 m."""


@dataclass(frozen=True, eq=False)
class MissedHint:
    """One object that no box explains: the clusters it rests on (``seen``, in frame order) and the
    fullest of them (``best``: most points), whose frame is where to look and whose box (world frame)
    the hint offers; its class name in the scene's source format (``label``, None for a mere object),
    how sure it is (``strength`` in [0, 1]), what it rests on (``evidence``: a sentence) and whether it
    stood still (seen in more than one sweep, always at one place: ``HintParams.stationary_spread_m``)."""

    seen: tuple[MissedCluster, ...]
    best: MissedCluster
    label: str | None
    strength: float
    evidence: str
    stationary: bool

    @property
    def frames(self) -> tuple[int, ...]:
        return tuple(sorted({c.frame for c in self.seen}))

    @property
    def frame(self) -> int:
        return self.best.frame

    @property
    def center_world(self) -> FloatArray:
        return self.best.center_world

    @property
    def yaw_world(self) -> float:
        return self.best.yaw_world

    @property
    def size(self) -> FloatArray:
        """Length, width and height of the box seen at ``frame``."""
        return self.best.size

    @property
    def kind(self) -> str:
        """The kind of road user the fullest view's shape fits."""
        return self.best.kind


def _groups(dets: DetectionSet, scene: Scene) -> list[NDArray[np.int64]]:
    times = frame_times(np.array(scene.timestamps_us, dtype=np.int64), GROUPING.frame_period_s)
    return [rows for rows in associate(dets, times, GROUPING).track_detections() if len(rows)]


def _cluster_detections(ordered: Sequence[MissedCluster]) -> DetectionSet:
    """``ordered`` (by frame) as detections, row for row."""
    yaws = np.array([c.yaw_world for c in ordered], dtype=np.float64)
    rotations = Rotation.from_euler("z", yaws[:, None]).as_matrix() if len(ordered) else np.zeros((0, 3, 3))
    n = len(ordered)
    return DetectionSet(
        frames=np.array([c.frame for c in ordered], dtype=np.int64),
        centers=np.array([c.center_world for c in ordered], dtype=np.float64).reshape(n, 3),
        yaws=yaws,
        rotations=np.asarray(rotations, dtype=np.float64).reshape(n, 3, 3),
        sizes=np.array([c.size for c in ordered], dtype=np.float64).reshape(n, 3),
        scores=np.full(n, np.nan),
        confidences=np.ones(n),
        label_codes=np.zeros(n, dtype=np.int64),
        label_names=(_WILDCARD,),
        wildcard_codes=np.array([True]),
        source_ids=tuple(f"cluster-{i}" for i in range(n)),  # no cluster continues another's source
    )


def _stationary(group: Sequence[MissedCluster], prm: HintParams) -> bool:
    if len({c.frame for c in group}) < 2:
        return False
    centers = np.array([c.center_world[:2] for c in group])
    return bool(np.ptp(centers, axis=0).max() <= prm.stationary_spread_m)


def kind_label(scene: Scene, kind: str) -> str | None:
    """The class name a box of ``kind`` gets in ``scene`` (the classical detector's names)."""
    return (AV2_LABELS if scene.source_format == "av2" else KITTI_LABELS).get(kind)


def lidar_hints(
    scene: Scene, clusters: Sequence[MissedCluster], params: HintParams | None = None
) -> list[MissedHint]:
    """One hint per object among ``clusters`` (uncovered clusters of any frames), strongest first."""
    prm = params or HintParams()
    ordered = sorted(clusters, key=lambda c: c.frame)
    hints: list[MissedHint] = []
    for rows in _groups(_cluster_detections(ordered), scene):
        group = [ordered[i] for i in rows.tolist()]
        best = max(group, key=lambda c: (c.points, -c.frame))
        frames = {c.frame for c in group}
        strength = point_strength(best.points, prm.cluster_points_scale) * (
            1.0 - np.exp(-len(frames) / prm.frames_scale)
        )
        seen = (
            f"in {len(frames)} sweeps, frames {min(frames)}-{max(frames)}"
            if len(frames) > 1
            else "in one sweep"
        )
        evidence = (
            f"{kind_phrase(best.kind)} of lidar points that no box covers, {seen}; "
            f"{best.points} points {best.range_m:.1f} m from the ego at frame {best.frame}"
        )
        hints.append(
            MissedHint(
                tuple(group), best, kind_label(scene, best.kind), float(strength), evidence,
                _stationary(group, prm),
            )
        )  # fmt: skip
    return sorted(hints, key=lambda h: (-h.strength, h.frame))


__all__ = ["GROUPING", "HintParams", "MissedHint", "kind_label", "lidar_hints"]
