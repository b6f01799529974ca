"""``look_at_missed`` actions: one per object of lidar points that no box explains
(``automation.missed_hints``).

The object-like clusters of each sweep (``missed_objects.object_clusters``: the costly part, a ground
estimate and a clustering per sweep, kept in the ``memo`` by scene content and frame since no box
takes part in it) that no box of the given layers covers are followed across frames. Each action opens the frame where the evidence is strongest, names the frames it was seen in
(``life``) and offers the box seen there (``proposal``): one key takes it as the start of a track.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from labelpilot.automation.missed_hints import MissedHint, lidar_hints
from labelpilot.automation.missed_objects import (
    MissedCluster,
    ObjectCluster,
    object_clusters,
    uncovered_clusters,
)
from labelpilot.automation.sweep_access import SweepSource
from labelpilot.guidance.actions import Action, Proposal
from labelpilot.guidance.costs import look_at_missed_price
from labelpilot.guidance.memo import GuidanceMemo, scene_fingerprint, sweeps_kind
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer


def hint_action(hint: MissedHint) -> Action:
    c, s = hint.center_world, hint.size
    return Action.priced(
        "look_at_missed",
        look_at_missed_price(hint.strength),
        reason=f"possibly missed: {hint.evidence}",
        track_id=None,
        frame=hint.frame,
        center_world=(float(c[0]), float(c[1]), float(c[2])),
        life=(hint.frames[0], hint.frames[-1]),
        proposal=Proposal(
            (float(c[0]), float(c[1]), float(c[2])),
            hint.yaw_world,
            (float(s[0]), float(s[1]), float(s[2])),
            hint.label,
            hint.stationary,
        ),
    )


def _frozen_clusters(sweeps: SweepSource, frame: int) -> tuple[ObjectCluster, ...]:
    return tuple(object_clusters(sweeps, frame))  # a memo keeps values that never change


def lidar_missed_actions(
    scene: Scene,
    layers: Sequence[AnnotationLayer],
    sweeps: SweepSource,
    frames: Sequence[int] | None = None,
    memo: GuidanceMemo | None = None,
) -> list[Action]:
    """One action per object of lidar points that no shape of ``layers`` covers in ``frames`` (default all)."""
    wanted = range(len(scene.frames)) if frames is None else frames
    scene_key = scene_fingerprint(scene) if memo is not None else b""
    found: list[MissedCluster] = []
    for frame in wanted:
        clusters: Sequence[ObjectCluster]
        if memo is None:
            clusters = object_clusters(sweeps, frame)
        else:
            key = ("object_clusters", scene_key, sweeps_kind(sweeps), frame)
            clusters = memo.get_or_compute(key, partial(_frozen_clusters, sweeps, frame))
        found.extend(uncovered_clusters(scene, layers, frame, clusters))
    return [hint_action(h) for h in lidar_hints(scene, found)]


__all__ = ["hint_action", "lidar_missed_actions"]
