"""Flags: frames of a track (or of a scene) that a person should look at, and why.

``track_flags`` checks one track against what automation saw and against physics:

* ``disagrees_with_auto``: the track's interpolated box (``tracks.world_shapes`` of its keyframes)
  lies away from the auto labels at frames that are not keyframes (a keyframe is a deliberate
  placement; every frame of a stationary track is checked). Auto labels are the candidate's own raw
  detections (``frame_attributes`` ``det_center``/``det_yaw``, kept by ``candidates.build_candidates``)
  and the observed boxes of the given auto layers, matched by centre distance (``auto_evidence``:
  the evidence, its tolerances and how they were measured). Disagreeing frames at most two frames
  apart make one run; a run of at least ``MIN_DISAGREEING_FRAMES`` makes one flag, at its worst frame;
* ``lost_point_support``: with sweeps, a frame where the box holds almost no lidar points (at most
  10 % and at most ``LOST_SUPPORT_POINTS``) while the frames around it held at least ``MIN_SUPPORT_POINTS``;
* ``jump``: a step between consecutive frames that departs from the local motion (the median
  velocity of the steps around it) by more than the class allows, or is faster than the class can
  move (only where the scene has ego poses: without them the world frame moves with the ego);
* ``yaw_flip``: a heading change of more than 135 degrees between consecutive keyframes, faster
  than the class can turn; the flipped keyframes are the minority side of the flip;
* ``implausible_size``: ``SizePriors.check`` finds the size more than 3 sd from the class's usual
  size (wildcard labels such as ``unknown`` are not checked).

``missed_object_flags`` finds object-like clusters of lidar points that no shape of the given layers
covers (``missed_objects``). Neither function reads a layer it is not given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from labelpilot.automation.auto_evidence import auto_evidence, disagreement
from labelpilot.automation.box_points import ego_point_counts
from labelpilot.automation.classes import ClassFamily, class_family
from labelpilot.automation.missed_objects import MissedCluster, kind_phrase, missed_clusters, point_strength
from labelpilot.automation.size_priors import SizePriors
from labelpilot.automation.sweep_access import SweepSource
from labelpilot.geometry import yaw_difference
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Keyframed, Track, TrackShapes

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

FlagKind = Literal[
    "disagrees_with_auto", "lost_point_support", "jump", "yaw_flip", "implausible_size", "missed_object"
]

MIN_SUPPORT_POINTS = 20
LOST_SUPPORT_POINTS = 3
SUPPORT_NEIGHBOURS = 3
"""Measured frames on each side whose median point count is the expected support."""
MIN_DISAGREEING_FRAMES = 2
"""A disagreement seen at fewer interpolated frames is left alone (a detector's slip, not the label's)."""
JUMP_WINDOW_STEPS = 7
FLIP_MIN_RAD = np.deg2rad(135.0)
WILDCARD_LABELS = frozenset({"unknown"})


@dataclass(frozen=True)
class Limits:
    """What a class of road user can do: speed (m/s), departure of one 10 Hz step from the local
    motion (m, above the labelling noise of real ground truth), and turn rate (rad/s)."""

    max_speed: float
    max_step_departure: float
    max_turn_rate: float


# Departures: real ground truth of KITTI 0000-0010 and Argoverse 2 reaches 0.9 m (99th percentile)
# and 1.8 m (a visual-odometry glitch moving every box) for vehicles, 0.4 m for the rest.
LIMITS: dict[ClassFamily, Limits] = {
    ClassFamily.VEHICLE: Limits(50.0, 2.0, np.deg2rad(60.0)),
    ClassFamily.CYCLIST: Limits(40.0, 1.0, np.deg2rad(120.0)),
    ClassFamily.PEDESTRIAN: Limits(8.0, 0.8, np.deg2rad(360.0)),
    ClassFamily.OTHER: Limits(50.0, 1.0, np.deg2rad(360.0)),
}


@dataclass(frozen=True)
class Flag:
    """One thing to look at: what, where (frame, world centre), which track, how bad (0..1) and why."""

    kind: FlagKind
    frame: int
    track_id: str | None
    severity: float
    message: str
    center_world: tuple[float, float, float] | None


def _center(shapes: TrackShapes, row: int) -> tuple[float, float, float]:
    c = shapes.cuboids.centers[row]
    return (float(c[0]), float(c[1]), float(c[2]))


def _runs(frames: Sequence[int], max_gap: int) -> list[list[int]]:
    """Split ascending frames into runs whose consecutive members are at most ``max_gap`` apart."""
    runs: list[list[int]] = []
    for frame in frames:
        if runs and frame - runs[-1][-1] <= max_gap:
            runs[-1].append(frame)
        else:
            runs.append([frame])
    return runs


def _span(run: Sequence[int]) -> str:
    return f"frame {run[0]}" if len(run) == 1 else f"frames {run[0]}-{run[-1]}"


def _disagreement_flags(
    track: Track, shapes: TrackShapes, auto_layers: Sequence[AnnotationLayer]
) -> list[Flag]:
    evidence = auto_evidence(track, shapes, auto_layers)
    found = disagreement(track, shapes, evidence)
    rows = {int(f): i for i, f in enumerate(shapes.frames)}
    # A keyframe is where someone put the box on purpose; what is checked is the interpolation.
    keys = set(track.motion.keyframes) if isinstance(track.motion, Keyframed) else set()
    suspect = [int(f) for f in found.frames[found.exceeds] if int(f) not in keys]
    flags: list[Flag] = []
    for run in _runs(suspect, max_gap=3):
        if len(run) < MIN_DISAGREEING_FRAMES:
            continue
        k = np.searchsorted(found.frames, run)
        worst = int(k[np.argmax(found.excess[k])])
        frame = int(found.frames[worst])
        message = (
            f"{_span(run)}: the interpolated box is {found.distance[worst]:.2f} m and "
            f"{np.rad2deg(found.axis_angle[worst]):.0f} deg from the auto label ({found.sources[worst]}) "
            f"at frame {frame} (tolerance {found.distance_tolerance:.2f} m"
            + (f", {np.rad2deg(found.yaw_tolerance):.0f} deg)" if found.yaw_tolerance is not None else ")")
        )
        severity = float(min(1.0, found.excess[worst] / 3.0))
        flags.append(
            Flag(
                "disagrees_with_auto", frame, track.track_id, severity, message, _center(shapes, rows[frame])
            )
        )
    return flags


def _support_flags(scene: Scene, track: Track, shapes: TrackShapes, sweeps: SweepSource) -> list[Flag]:
    frames, counts = ego_point_counts(scene.ego_shapes(track), sweeps)
    lost: list[tuple[int, int, float]] = []
    for i, count in enumerate(counts.tolist()):
        before = counts[max(0, i - SUPPORT_NEIGHBOURS) : i]
        after = counts[i + 1 : i + 1 + SUPPORT_NEIGHBOURS]
        expected = max(
            float(np.median(before)) if len(before) else 0.0, float(np.median(after)) if len(after) else 0.0
        )
        if expected >= MIN_SUPPORT_POINTS and count <= min(LOST_SUPPORT_POINTS, 0.1 * expected):
            lost.append((int(frames[i]), count, expected))
    rows = {int(f): i for i, f in enumerate(shapes.frames)}
    flags: list[Flag] = []
    by_frame = {f: (c, e) for f, c, e in lost}
    measured = frames.tolist()
    for run in _runs([f for f, _, _ in lost], max_gap=1 + int(max(np.diff(measured), default=1))):
        frame = run[0]
        count, expected = by_frame[frame]
        message = (
            f"{_span(run)}: {count} lidar points in the box where the frames around held about "
            f"{expected:.0f}: the box may have slipped off the object"
        )
        flags.append(
            Flag(
                "lost_point_support",
                frame,
                track.track_id,
                1.0 - count / expected,
                message,
                _center(shapes, rows[frame]),
            )
        )
    return flags


def _has_ego_motion(scene: Scene) -> bool:
    poses = scene.world_T_ego_array()
    return len(poses) > 0 and not bool(np.allclose(poses, poses[0]))


def _jump_flags(scene: Scene, track: Track, shapes: TrackShapes) -> list[Flag]:
    if len(shapes) < 2:
        return []
    limits = LIMITS[class_family(track.label)]
    times = np.array([scene.frames[f].timestamp_us for f in shapes.frames.tolist()], dtype=np.float64) / 1e6
    dt = np.maximum(np.diff(times), 1e-3)
    steps = np.diff(shapes.cuboids.centers[:, :2], axis=0)
    velocity = steps / dt[:, None]
    speed = np.linalg.norm(velocity, axis=1)
    half = JUMP_WINDOW_STEPS // 2
    departure = np.zeros(len(steps))
    if len(steps) >= 3:
        for i in range(len(steps)):
            local = np.median(velocity[max(0, i - half) : i + half + 1], axis=0)
            departure[i] = float(np.linalg.norm(velocity[i] - local)) * dt[i]
    too_fast = speed > limits.max_speed if _has_ego_motion(scene) else np.zeros(len(steps), dtype=np.bool_)
    bad = np.flatnonzero((departure > limits.max_step_departure) | too_fast)
    flags: list[Flag] = []
    for run in _runs([int(i) for i in bad], max_gap=1):
        i = run[0]
        frame = int(shapes.frames[i + 1])
        if too_fast[i]:
            why = f"moves at {speed[i]:.1f} m/s (a {track.label} reaches about {limits.max_speed:.0f})"
        else:
            why = (
                f"moves {np.linalg.norm(steps[i]):.2f} m, {departure[i]:.2f} m off the motion around it "
                f"(allowed {limits.max_step_departure:.1f} m)"
            )
        severity = float(
            min(1.0, max(departure[i] / limits.max_step_departure, speed[i] / limits.max_speed) / 3.0)
        )
        message = f"frame {int(shapes.frames[i])} to {frame}: the box {why}"
        flags.append(Flag("jump", frame, track.track_id, severity, message, _center(shapes, i + 1)))
    return flags


def _yaw_flip_flags(scene: Scene, track: Track, shapes: TrackShapes) -> list[Flag]:
    motion = track.motion
    if not isinstance(motion, Keyframed):
        return []
    keys = [f for f in motion.keyframes if track.has_shape(f)]
    if len(keys) < 2:
        return []
    limits = LIMITS[class_family(track.label)]
    yaws = np.array([motion.keyframes[f].yaw for f in keys])
    times = np.array([scene.frames[f].timestamp_us for f in keys], dtype=np.float64) / 1e6
    change = np.abs(yaw_difference(yaws[1:], yaws[:-1]))
    flips = (change > FLIP_MIN_RAD) & (change > limits.max_turn_rate * np.diff(times))
    if not flips.any():
        return []
    side = np.concatenate([[0], np.cumsum(flips) % 2])
    minority = 1 if int(side.sum()) * 2 <= len(side) else 0
    rows = {int(f): i for i, f in enumerate(shapes.frames)}
    flags: list[Flag] = []
    # Runs of consecutive flipped keyframes (by position among the keyframes, not by frame number).
    for run_rows in _runs([int(i) for i in np.flatnonzero(side == minority)], max_gap=1):
        first, last = run_rows[0], run_rows[-1]
        turned = float(np.rad2deg(change[first - 1] if first > 0 else change[last]))
        run = [keys[first], keys[last]] if last > first else [keys[first]]
        message = f"{_span(run)}: the heading is turned by {turned:.0f} deg against the rest of the track"
        frame = keys[first]
        flags.append(Flag("yaw_flip", frame, track.track_id, 1.0, message, _center(shapes, rows[frame])))
    return flags


def _size_flags(track: Track, shapes: TrackShapes, priors: SizePriors) -> list[Flag]:
    if track.label.strip().lower() in WILDCARD_LABELS:
        return []
    check = priors.check(track.label, track.size)
    if not check.implausible:
        return []
    worst = float(np.max(np.abs(check.zscores))) if np.all(np.isfinite(check.zscores)) else 6.0
    severity = float(min(1.0, worst / 6.0))
    frame = int(shapes.frames[0])
    return [Flag("implausible_size", frame, track.track_id, severity, check.reason, _center(shapes, 0))]


def track_flags(
    scene: Scene,
    track: Track,
    *,
    auto_layers: Sequence[AnnotationLayer] = (),
    sweeps: SweepSource | None = None,
    priors: SizePriors | None = None,
) -> list[Flag]:
    """Everything suspicious about one track (see the module docstring), by frame."""
    shapes = scene.world_shapes(track)
    if len(shapes) == 0:
        return []
    flags = _disagreement_flags(track, shapes, auto_layers)
    if sweeps is not None:
        flags += _support_flags(scene, track, shapes, sweeps)
    flags += _jump_flags(scene, track, shapes)
    flags += _yaw_flip_flags(scene, track, shapes)
    flags += _size_flags(track, shapes, priors or SizePriors.builtin())
    return sorted(flags, key=lambda f: (f.frame, -f.severity))


def _missed_flag(cluster: MissedCluster, layer_names: str) -> Flag:
    c = cluster.center_world
    message = (
        f"frame {cluster.frame}: {kind_phrase(cluster.kind)} of {cluster.points} lidar points "
        f"{cluster.range_m:.1f} m from the ego that no box of {layer_names} covers"
    )
    severity = point_strength(cluster.points)
    return Flag(
        "missed_object", cluster.frame, None, severity, message, (float(c[0]), float(c[1]), float(c[2]))
    )


def missed_object_flags(
    scene: Scene, layers: Sequence[AnnotationLayer], sweeps: SweepSource, frames: Sequence[int] | None = None
) -> list[Flag]:
    """Object-like lidar clusters that no shape of ``layers`` covers, per frame (``frames``: all with a sweep)."""
    wanted = range(len(scene.frames)) if frames is None else frames
    names = ", ".join(layer.name for layer in layers) or "any layer"
    flags = [
        _missed_flag(c, names) for frame in wanted for c in missed_clusters(scene, layers, sweeps, frame)
    ]
    return sorted(flags, key=lambda f: (f.frame, -f.severity))


__all__ = ["LIMITS", "Flag", "FlagKind", "Limits", "missed_object_flags", "track_flags"]
