"""Where to measure a track: for each dimension, the frame and close-up view that show it best.

A rigid object has one size, but no single frame shows all of it. The ego sees a box's long side
when the line of sight from the sensor is roughly perpendicular to the box heading (the side view
measures the length), and its front or back when the line of sight runs along the heading (the
back view measures the width). The height shows in any side view; it needs points on the roof
and near the ground, which come with a near, unhidden view.

Each frame where the track has a shape gets a score in [0, 1] per dimension:

    score = angle_factor * evidence

* ``angle_factor`` = 0.2 + 0.8 * q, with q = |sin a| for the length, |cos a| for the width and 1
  for the height, where a is the angle between the line of sight (sensor to box centre, ground
  plane) and the box heading. The floor keeps a frame with far better evidence eligible.
* with lidar (the frame has a sweep): ``evidence`` = (points + 1) / (most points + 1) over the
  track's frames with a sweep, times sqrt(range_factor), times (1 - occlusion / 2). Points in the
  box already fall with range and occlusion; the two extra factors break ties between frames with
  similar counts in favour of the nearer, unhidden one.
* without lidar: ``evidence`` = range_factor * (0.25 + 0.75 * confidence), where confidence is the
  detection score the track keeps per frame (``det_score`` of a candidate, ``score`` of an imported
  auto track), mapped to [0, 1] like candidate building does; a frame without a detection counts as
  the track's least confident detected frame, and a track without scores has confidence 1.

``range_factor`` = 1 / (1 + (range / 20 m)^2): lidar point density falls with the square of the
range, and a camera's pixels per metre with the range. ``occlusion`` approximates the share of the
box's near face hidden from the sensor: the box's angular extent (seen from above) is cut into
0.5-degree bins; in a bin with at least two lidar points nearer than the box and more than 0.3 m
above its bottom (lower ones are ground), the highest ray from the sensor through such a point hides
the face below it. The sensor sits at the lidar extrinsic, but at least 1.7 m (a roof mount) above
the ground around it (10th percentile height of the returns 3-10 m away): Argoverse 2 stores sweeps
in the ego frame, whose origin is on the ground, and gives the lidar the identity extrinsic.

When ``sweeps`` is given and any of the track's frames has a sweep, only frames with a sweep are
candidates (a person measures on points); otherwise every frame where the track has a shape is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from labelpilot.automation.association import AssociationParams
from labelpilot.automation.box_points import count_in_box, one_box, within_rectangle
from labelpilot.automation.sweep_access import SweepSource
from labelpilot.automation.track_scoring import confidences
from labelpilot.geometry import yaw_difference
from labelpilot.scenes import Scene
from labelpilot.tracks import Track, TrackShapes

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

Dimension = Literal["length", "width", "height"]
ViewSide = Literal["side", "back", "top"]

RANGE_HALF_M = 20.0
"""Range at which the range factor is one half."""
ANGLE_FLOOR = 0.2
OCCLUDER_MIN_HEIGHT_M = 0.3
"""Points lower than this above the box bottom are ground, not occluders."""
OCCLUSION_BIN_RAD = np.deg2rad(0.5)
OCCLUDER_MIN_POINTS = 2
"""An angular bin is hidden when at least this many points block it (one stray return does not)."""
MIN_SENSOR_RANGE_M = 1.0
"""Returns nearer to the sensor than this are the ego vehicle itself."""
ROOF_HEIGHT_M = 1.7
GROUND_RING_M = (3.0, 10.0)
MIN_GROUND_POINTS = 50

_SIDES: dict[Dimension, ViewSide] = {"length": "side", "width": "back", "height": "side"}


@dataclass(frozen=True)
class MeasurementView:
    """The frame and close-up view in which one dimension of a track is best measured."""

    dimension: Literal["length", "width", "height"]
    frame: int
    side: Literal["side", "back", "top"]
    score: float
    points: int | None
    range_m: float
    reason: str


@dataclass(frozen=True, eq=False)
class _FrameEvidence:
    """What each candidate frame offers, as arrays over the frames (ascending)."""

    frames: IntArray
    ranges: FloatArray
    sight_angles: FloatArray
    """Angle between the line of sight and the box heading, folded to [0, pi/2]: pi/2 is side-on."""
    points: IntArray | None
    occlusion: FloatArray | None
    confidence: FloatArray | None


def _sensor_position(scene: Scene) -> FloatArray:
    if scene.lidar is None:
        return np.zeros(3)
    position: FloatArray = scene.lidar.ego_T_sensor.translation.copy()
    return position


def _sensor_height(points_xyz: FloatArray, sensor: FloatArray) -> float:
    """The sensor's z, at least a roof height above the ground around it (see the module docstring)."""
    near = within_rectangle(points_xyz, sensor[:2] - GROUND_RING_M[1], sensor[:2] + GROUND_RING_M[1])
    rel = np.hypot(near[:, 0] - sensor[0], near[:, 1] - sensor[1])
    ring = near[(rel > GROUND_RING_M[0]) & (rel < GROUND_RING_M[1]), 2]
    if len(ring) < MIN_GROUND_POINTS:
        return float(sensor[2])
    ground = float(np.percentile(ring, 10))
    return max(float(sensor[2]), ground + ROOF_HEIGHT_M)


def _frame_confidences(track: Track, frames: IntArray) -> FloatArray | None:
    """Per-frame detection confidence in [0, 1], or None when the track keeps no scores."""
    raw = np.full(len(frames), np.nan)
    for i, frame in enumerate(frames.tolist()):
        attributes = track.frame_attributes.get(frame, {})
        for key in ("det_score", "score"):
            value = attributes.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                raw[i] = float(value)
                break
    given = np.isfinite(raw)
    if not given.any():
        return None
    conf = confidences(raw, AssociationParams())
    conf[~given] = float(conf[given].min())
    return conf


def _occlusion(
    points_xyz: FloatArray, sensor: FloatArray, corners_xy: FloatArray, z_low: float, z_high: float
) -> float:
    """Share of the box's face hidden behind nearer points (see the module docstring)."""
    rel_corners = corners_xy - sensor[:2]
    center = rel_corners.mean(axis=0)
    near = float(np.hypot(rel_corners[:, 0], rel_corners[:, 1]).min())
    distance = float(np.hypot(*center))
    if near <= MIN_SENSOR_RANGE_M or distance <= 0.0:
        return 0.0  # the sensor is at or inside the box: no line of sight to speak of
    u = center / distance
    points_xyz = within_rectangle(
        points_xyz,
        np.minimum(corners_xy.min(axis=0), sensor[:2]),
        np.maximum(corners_xy.max(axis=0), sensor[:2]),
    )
    corner_angles = np.arctan2(rel_corners @ np.array([-u[1], u[0]]), rel_corners @ u)
    low, high = float(corner_angles.min()), float(corner_angles.max())
    if high <= low:
        return 0.0
    rel = points_xyz[:, :2] - sensor[:2]
    along = rel @ u
    candidate = (
        (along > MIN_SENSOR_RANGE_M)
        & (along < near)
        & (points_xyz[:, 2] > z_low + OCCLUDER_MIN_HEIGHT_M)
        & (points_xyz[:, 2] < z_high)
    )
    rel = rel[candidate]
    ranges = np.hypot(rel[:, 0], rel[:, 1])
    angles = np.arctan2(rel @ np.array([-u[1], u[0]]), rel @ u)
    blocking = (ranges < near) & (angles >= low) & (angles <= high)
    bins = max(4, int(np.ceil((high - low) / OCCLUSION_BIN_RAD)))
    index = np.clip(((angles[blocking] - low) / (high - low) * bins).astype(np.int64), 0, bins - 1)
    # Each occluding point shadows, at the box's near side, everything below the ray through it.
    shadow_top = sensor[2] + (points_xyz[candidate, 2][blocking] - sensor[2]) * near / ranges[blocking]
    hits = np.bincount(index, minlength=bins)
    tops = np.full(bins, -np.inf)
    np.maximum.at(tops, index, shadow_top)
    hidden = np.clip((tops - z_low) / max(z_high - z_low, 1e-6), 0.0, 1.0)
    hidden[hits < OCCLUDER_MIN_POINTS] = 0.0
    return float(hidden.mean())


def _lidar_evidence(
    shapes: TrackShapes, sweeps: SweepSource, sensor: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """(rows of ``shapes`` with a sweep, points in the box there, occlusion there); one sweep in memory at a time."""
    rows: list[int] = []
    points: list[int] = []
    occlusion: list[float] = []
    corners = shapes.cuboids.corners()
    for row, frame in enumerate(shapes.frames.tolist()):
        cloud = sweeps.points_ego(frame)
        if cloud is None:
            continue
        xyz = np.asarray(cloud[:, :3], dtype=np.float64)
        z = corners[row, :, 2]
        eye = np.array([sensor[0], sensor[1], _sensor_height(xyz, sensor)])
        rows.append(row)
        points.append(count_in_box(xyz, one_box(shapes.cuboids, row)))
        occlusion.append(_occlusion(xyz, eye, corners[row, :4, :2], float(z.min()), float(z.max())))
    return np.asarray(rows, dtype=np.int64), np.asarray(points, dtype=np.int64), np.asarray(occlusion)


def _evidence(scene: Scene, track: Track, sweeps: SweepSource | None) -> _FrameEvidence:
    shapes = scene.ego_shapes(track)
    if len(shapes) == 0:
        raise ValueError(f"track {track.track_id} has no frame with a shape to measure in")
    sensor = _sensor_position(scene)
    points: IntArray | None = None
    occlusion: FloatArray | None = None
    rows = np.arange(len(shapes), dtype=np.int64)
    if sweeps is not None:
        lidar_rows, counts, hidden = _lidar_evidence(shapes, sweeps, sensor)
        if len(lidar_rows):
            rows, points, occlusion = lidar_rows, counts, hidden
    boxes = shapes.cuboids
    rel = boxes.centers[rows, :2] - sensor[:2]
    alpha = yaw_difference(np.arctan2(rel[:, 1], rel[:, 0]), boxes.yaws[rows])
    sight = np.arccos(np.clip(np.abs(np.cos(alpha)), 0.0, 1.0))
    frames = shapes.frames[rows]
    confidence = None if points is not None else _frame_confidences(track, frames)
    return _FrameEvidence(frames, np.hypot(rel[:, 0], rel[:, 1]), sight, points, occlusion, confidence)


def _angle_quality(dimension: Dimension, sight: FloatArray) -> FloatArray:
    if dimension == "length":
        return np.sin(sight)
    if dimension == "width":
        return np.cos(sight)
    return np.ones_like(sight)


def _scores(dimension: Dimension, ev: _FrameEvidence) -> FloatArray:
    angle_factor = ANGLE_FLOOR + (1.0 - ANGLE_FLOOR) * _angle_quality(dimension, ev.sight_angles)
    range_factor = 1.0 / (1.0 + (ev.ranges / RANGE_HALF_M) ** 2)
    if ev.points is not None and ev.occlusion is not None:
        support = (ev.points + 1.0) / (float(ev.points.max()) + 1.0)
        evidence = support * np.sqrt(range_factor) * (1.0 - 0.5 * ev.occlusion)
    else:
        conf = np.ones(len(ev.frames)) if ev.confidence is None else ev.confidence
        evidence = range_factor * (0.25 + 0.75 * conf)
    scores: FloatArray = angle_factor * evidence
    return scores


def _sight_phrase(dimension: Dimension, sight: float) -> str:
    degrees = np.rad2deg(sight)
    if dimension == "length":
        return f"seen from the side (line of sight {degrees:.0f} deg off the heading)"
    if dimension == "width":
        return f"seen from the front or back (line of sight {degrees:.0f} deg off the heading)"
    return f"line of sight {degrees:.0f} deg off the heading"


def _reason(dimension: Dimension, ev: _FrameEvidence, i: int) -> str:
    parts = [f"frame {int(ev.frames[i])}"]
    if ev.points is not None and ev.occlusion is not None:
        parts.append(
            f"{int(ev.points[i])} lidar points in the box (most of any frame {int(ev.points.max())})"
        )
    parts.append(f"{ev.ranges[i]:.1f} m away")
    parts.append(_sight_phrase(dimension, float(ev.sight_angles[i])))
    if ev.occlusion is not None:
        parts.append(f"{ev.occlusion[i]:.0%} of it hidden behind nearer points")
    elif ev.confidence is not None:
        parts.append(f"detection confidence {ev.confidence[i]:.2f} (no lidar)")
    else:
        parts.append("no lidar and no detection score")
    return ", ".join(parts)


def best_view(views: Iterable[MeasurementView]) -> MeasurementView:
    """The best scoring of ``views`` (the earliest of equal scores)."""
    return max(views, key=lambda v: (v.score, -v.frame))


def measurement_views(
    scene: Scene, track: Track, sweeps: SweepSource | None = None
) -> dict[str, MeasurementView]:
    """For ``length`` (side view), ``width`` (back view) and ``height`` (side view): the best frame.

    Only frames where the track has a shape are considered (see the module docstring for the score).
    """
    ev = _evidence(scene, track, sweeps)
    views: dict[str, MeasurementView] = {}
    for dimension in ("length", "width", "height"):
        scores = _scores(dimension, ev)
        best = int(np.argmax(scores))
        views[dimension] = MeasurementView(
            dimension=dimension,
            frame=int(ev.frames[best]),
            side=_SIDES[dimension],
            score=float(scores[best]),
            points=None if ev.points is None else int(ev.points[best]),
            range_m=float(ev.ranges[best]),
            reason=_reason(dimension, ev, best),
        )
    return views
