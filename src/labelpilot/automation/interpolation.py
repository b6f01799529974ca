"""World-frame interpolation of every track of a scene at once.

``labelpilot.tracks.world_shapes`` derives one track's cuboids; the editor and the automation need
all tracks of a scene on every frame, and a Python loop over tracks (each building its own scipy
``Slerp``) costs a few hundred microseconds a track. Here every keyframe of every track goes into
flat arrays with per-track offsets, so one ``searchsorted`` finds the segment of every query and
positions and rotations are interpolated in a handful of array operations for the whole scene.

Rotations are always spherical-linear between neighbouring keyframes (shortest arc; for yaw-only
boxes that is the shortest yaw arc). Positions are either linear (identical to ``world_shapes``) or
a cubic Hermite spline:

* a tangent (metres per frame) at each keyframe from its neighbours: the three-point estimate for
  uneven spacing, ``(h_next * d_prev + h_prev * d_next) / (h_prev + h_next)`` with ``d`` the secant
  slopes and ``h`` the frame gaps, which is exact for constant velocity and constant acceleration;
* limited per axis in the Fritsch-Carlson way (zero where the secants change sign or one of them is
  zero, at most three times the smaller secant), so a car that stops does not creep or overshoot;
* the first and last keyframe take the slope of their one segment, so two keyframes give a line;
* a velocity given with the keyframe takes precedence over the estimate:
  ``frame_attributes[f]["velocity"]`` in world metres per frame, or
  ``frame_attributes[f]["velocity_m_per_s"]`` in world metres per second (what the Argoverse 2
  tracker import stores), converted with the scene's timestamps when ``timestamps_us`` is passed
  and ignored otherwise.

Before the first and after the last keyframe the nearest keyframe is held, with either method.
A stationary track is a single keyframe, broadcast over its frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.transform import Rotation

from labelpilot.geometry import CuboidBatch
from labelpilot.tracks import Keyframed, Stationary, Track, TrackShapes

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

InterpolationMethod = Literal["linear", "hermite"]
VELOCITY_PER_FRAME = "velocity"
VELOCITY_PER_SECOND = "velocity_m_per_s"


@dataclass(frozen=True, eq=False)
class KeyframeArrays:
    """The keyframes of several tracks, concatenated in track order.

    Track ``t`` owns rows ``offsets[t]:offsets[t + 1]`` (at least one, frames strictly ascending).
    ``velocities`` are world metres per frame, NaN where none was given.
    """

    frames: IntArray
    centers: FloatArray
    quats_xyzw: FloatArray
    velocities: FloatArray
    offsets: IntArray

    @classmethod
    def single(
        cls, frames: ArrayLike, centers: ArrayLike, quats_xyzw: ArrayLike, velocities: ArrayLike | None = None
    ) -> KeyframeArrays:
        """The keyframes of one track."""
        key_frames = np.asarray(frames, dtype=np.int64).reshape(-1)
        count = len(key_frames)
        return cls(
            key_frames,
            np.asarray(centers, dtype=np.float64).reshape(count, 3),
            np.asarray(quats_xyzw, dtype=np.float64).reshape(count, 4),
            np.full((count, 3), np.nan)
            if velocities is None
            else np.asarray(velocities, dtype=np.float64).reshape(count, 3),
            np.array([0, count], dtype=np.int64),
        )


def seconds_per_frame(timestamps_us: ArrayLike) -> FloatArray:
    """dt/dframe at each frame in seconds: the central difference of the timestamps, one-sided at the ends."""
    stamps = np.asarray(timestamps_us, dtype=np.float64).reshape(-1) / 1e6
    if len(stamps) < 2:
        return np.zeros(len(stamps))
    return np.asarray(np.gradient(stamps), dtype=np.float64)


def _keyframe_velocity(track: Track, frame: int, frame_seconds: FloatArray | None) -> list[float] | None:
    attributes = track.frame_attributes.get(frame)
    if not attributes:
        return None
    per_frame = attributes.get(VELOCITY_PER_FRAME)
    if isinstance(per_frame, list) and len(per_frame) == 3:
        return per_frame
    per_second = attributes.get(VELOCITY_PER_SECOND)
    if frame_seconds is not None and isinstance(per_second, list) and len(per_second) == 3:
        return [v * float(frame_seconds[frame]) for v in per_second]
    return None


def keyframe_arrays(tracks: Sequence[Track], frame_seconds: FloatArray | None = None) -> KeyframeArrays:
    """Flatten the tracks' motions; a stationary track is one keyframe at its first frame.

    ``frame_seconds`` (see ``seconds_per_frame``) converts velocities given in metres per second.
    """
    frames: list[int] = []
    matrices: list[FloatArray] = []
    velocity_rows: list[int] = []
    velocity_values: list[list[float]] = []
    counts = np.zeros(len(tracks), dtype=np.int64)
    for t, track in enumerate(tracks):
        motion = track.motion
        if isinstance(motion, Stationary):
            frames.append(track.first_frame)
            matrices.append(motion.world_pose.matrix)
            counts[t] = 1
            continue
        if not isinstance(motion, Keyframed):  # pragma: no cover - Motion is a closed union
            raise TypeError(f"unknown motion {motion!r}")
        if track.frame_attributes:
            for row, frame in enumerate(motion.keyframes, start=len(frames)):
                velocity = _keyframe_velocity(track, frame, frame_seconds)
                if velocity is not None:
                    velocity_rows.append(row)
                    velocity_values.append(velocity)
        frames.extend(motion.keyframes)
        matrices.extend(pose.matrix for pose in motion.keyframes.values())
        counts[t] = len(motion.keyframes)
    # np.array on the list of 4x4 matrices is about three times faster than np.stack here.
    stacked = np.array(matrices, dtype=np.float64) if matrices else np.zeros((0, 4, 4))
    quats = np.asarray(Rotation.from_matrix(stacked[:, :3, :3]).as_quat()) if matrices else np.zeros((0, 4))
    velocities = np.full((len(frames), 3), np.nan)
    if velocity_rows:
        velocities[velocity_rows] = velocity_values
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return KeyframeArrays(
        np.asarray(frames, dtype=np.int64), stacked[:, :3, 3].copy(), quats, velocities, offsets
    )


def position_tangents(keys: KeyframeArrays) -> FloatArray:
    """Hermite tangents (metres per frame) at every keyframe; see the module notes."""
    count = len(keys.frames)
    starts = np.zeros(count, dtype=bool)
    ends = np.zeros(count, dtype=bool)
    starts[keys.offsets[:-1]] = True
    ends[keys.offsets[1:] - 1] = True
    gaps = np.diff(keys.frames).astype(np.float64)
    # Secants between a track's last keyframe and the next track's first are never used: mask them.
    secants = np.diff(keys.centers, axis=0) / np.where(starts[1:], 1.0, gaps)[:, None]
    d_prev = np.zeros((count, 3))
    d_next = np.zeros((count, 3))
    d_prev[1:] = secants
    d_next[:-1] = secants
    h_prev = np.ones(count)
    h_next = np.ones(count)
    h_prev[1:] = np.where(starts[1:], 1.0, gaps)
    h_next[:-1] = np.where(starts[1:], 1.0, gaps)
    three_point = (h_next[:, None] * d_prev + h_prev[:, None] * d_next) / (h_prev + h_next)[:, None]
    limit = 3.0 * np.minimum(np.abs(d_prev), np.abs(d_next))
    limited = np.where(
        d_prev * d_next > 0, np.sign(three_point) * np.minimum(np.abs(three_point), limit), 0.0
    )
    tangents = np.zeros((count, 3))
    interior = ~starts & ~ends
    tangents[interior] = limited[interior]
    first_only = starts & ~ends
    last_only = ends & ~starts
    tangents[first_only] = d_next[first_only]
    tangents[last_only] = d_prev[last_only]
    given = np.all(np.isfinite(keys.velocities), axis=1)
    tangents[given] = keys.velocities[given]
    return tangents


# Rows of the per-keyframe segment table (one column per keyframe, see _segment_table).
_FRAME, _INV_SPAN, _ANGLE, _INV_SIN = 0, 1, 2, 3
_QUAT, _NEXT_QUAT, _POSITION = slice(4, 8), slice(8, 12), 12


def _segment_table(keys: KeyframeArrays, method: InterpolationMethod) -> FloatArray:
    """Per keyframe, everything needed to interpolate towards its track's next keyframe, one column each.

    Rows: frame; 1 / frame gap (0 at a track's end, where the fraction stays 0); the angle between
    the two unit quaternions (half the rotation angle, at least 1e-12) and 1 / its sine; the
    quaternion; the next one, sign-aligned so that the arc is the shortest; then the position as a
    polynomial in the fraction a in [0, 1], coefficients of a^0, a^1, ... three rows each.
    Columns, not rows, per keyframe: gathering them for every query then yields contiguous rows,
    which makes the per-query arithmetic several times faster than on (N, 3) arrays.
    """
    count = len(keys.frames)
    ends = np.zeros(count, dtype=bool)
    ends[keys.offsets[1:] - 1] = True
    following = np.where(ends, np.arange(count), np.arange(count) + 1)
    span = (keys.frames[following] - keys.frames).astype(np.float64)
    q0 = keys.quats_xyzw
    q1 = keys.quats_xyzw[following]
    # q and -q are the same rotation; the shortest arc starts from the pair whose dot product is >= 0.
    q1 = np.where(np.sum(q0 * q1, axis=1, keepdims=True) < 0.0, -q1, q1)
    # The angle between the unit 4-vectors, stable for tiny and for large angles alike. Below 1e-12
    # sin(x) == x in double precision, so the slerp weights become the plain lerp weights.
    angle = 2.0 * np.arctan2(np.linalg.norm(q1 - q0, axis=1), np.linalg.norm(q1 + q0, axis=1))
    angle = np.maximum(angle, 1e-12)
    p0, p1 = keys.centers, keys.centers[following]
    if method == "linear":
        coefficients = [p0, p1 - p0]
    else:
        tangents = position_tangents(keys)
        m0, m1 = span[:, None] * tangents, span[:, None] * tangents[following]
        coefficients = [p0, m0, 3.0 * (p1 - p0) - 2.0 * m0 - m1, 2.0 * (p0 - p1) + m0 + m1]
    inv_span = np.where(span > 0, 1.0 / np.where(span > 0, span, 1.0), 0.0)
    scalars = np.stack([keys.frames.astype(np.float64), inv_span, angle, 1.0 / np.sin(angle)])
    return np.vstack([scalars, q0.T, q1.T, *(c.T for c in coefficients)])


def interpolate_keyframes(
    keys: KeyframeArrays,
    query_frames: IntArray,
    query_tracks: IntArray,
    method: InterpolationMethod = "linear",
) -> tuple[FloatArray, FloatArray]:
    """Centres (Q, 3) and quaternions x,y,z,w (Q, 4) of track ``query_tracks[i]`` at ``query_frames[i]``.

    Rotations are the same as scipy's ``Slerp`` (shortest arc), written on plain arrays because
    scipy 1.17's ``Rotation`` product and ``as_rotvec`` cost about 0.4 µs a row, which alone would take
    a 200,000-shape scene past its time budget. Quaternions are unit up to rounding.
    """
    if method not in ("linear", "hermite"):
        raise ValueError(f"unknown interpolation method {method!r} (use 'linear' or 'hermite')")
    if len(query_frames) == 0:
        return np.zeros((0, 3)), np.zeros((0, 4))
    counts = np.diff(keys.offsets)
    key_tracks = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    lowest = min(int(keys.frames.min()), int(query_frames.min()))
    stride = max(int(keys.frames.max()), int(query_frames.max())) - lowest + 1
    # One sorted code per (track, frame) turns the per-track segment search into a single searchsorted.
    key_codes = key_tracks * stride + (keys.frames - lowest)
    query_codes = query_tracks * stride + (query_frames - lowest)
    first = np.take(keys.offsets, query_tracks)
    left = np.searchsorted(key_codes, query_codes, side="right") - 1
    left = np.clip(left, first, np.maximum(first, np.take(keys.offsets, query_tracks + 1) - 2))

    at = np.take(_segment_table(keys, method), left, axis=1)
    alpha = (query_frames - at[_FRAME]) * at[_INV_SPAN]
    np.clip(alpha, 0.0, 1.0, out=alpha)
    # Horner's rule on the position polynomial, in place on the gathered rows.
    degree = (len(at) - _POSITION) // 3 - 1
    centers = at[_POSITION + 3 * degree : _POSITION + 3 * degree + 3]
    for power in range(degree - 1, -1, -1):
        centers *= alpha
        centers += at[_POSITION + 3 * power : _POSITION + 3 * power + 3]
    # Slerp: sin((1 - a) phi) / sin(phi) * q0 + sin(a phi) / sin(phi) * q1.
    quats = at[_QUAT]
    quats *= np.sin((1.0 - alpha) * at[_ANGLE]) * at[_INV_SIN]
    quats += at[_NEXT_QUAT] * (np.sin(alpha * at[_ANGLE]) * at[_INV_SIN])
    return np.ascontiguousarray(centers.T), np.ascontiguousarray(quats.T)


def _quat_multiply(a: FloatArray, b: FloatArray) -> FloatArray:
    """Hamilton products a * b (apply b first, then a) of quaternions stored as rows x, y, z, w: (4, N)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return np.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ]
    )


def _query_frames(tracks: Sequence[Track], num_frames: int) -> tuple[IntArray, IntArray]:
    """Every (frame, track index) where a track has a shape, grouped by track, frames ascending."""
    firsts = np.array([t.first_frame for t in tracks], dtype=np.int64)
    lasts = np.array([t.last_frame for t in tracks], dtype=np.int64)
    outside = np.flatnonzero((firsts < 0) | (lasts >= num_frames))
    if len(outside):
        bad = tracks[int(outside[0])]
        raise ValueError(
            f"track {bad.track_id} spans frames {bad.first_frame}..{bad.last_frame}, "
            f"but the scene has frames 0..{num_frames - 1}"
        )
    lengths = lasts - firsts + 1
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    query_tracks = np.repeat(np.arange(len(tracks), dtype=np.int64), lengths)
    query_frames = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(starts - firsts, lengths)
    absent = [
        t * num_frames + f
        for t, track in enumerate(tracks)
        for f in track.absent_frames
        if track.first_frame <= f <= track.last_frame
    ]
    if absent:
        keep = ~np.isin(query_tracks * num_frames + query_frames, np.asarray(absent, dtype=np.int64))
        query_frames, query_tracks = query_frames[keep], query_tracks[keep]
    return query_frames, query_tracks


def interpolate_scene_tracks(
    tracks: Sequence[Track],
    num_frames: int,
    method: InterpolationMethod = "linear",
    *,
    timestamps_us: ArrayLike | None = None,
) -> list[TrackShapes]:
    """World-frame cuboids of every track at every frame where it has a shape, in the order of ``tracks``.

    ``num_frames`` is the scene's frame count (tracks must lie inside it); ``timestamps_us`` (one per
    frame) lets Hermite interpolation use velocities given in metres per second.
    """
    if not tracks:
        return []
    frame_seconds = None
    if timestamps_us is not None:
        frame_seconds = seconds_per_frame(timestamps_us)
        if len(frame_seconds) != num_frames:
            raise ValueError(f"timestamps_us has {len(frame_seconds)} entries for {num_frames} frames")
    query_frames, query_tracks = _query_frames(tracks, num_frames)
    keys = keyframe_arrays(tracks, frame_seconds)
    centers, quats = interpolate_keyframes(keys, query_frames, query_tracks, method)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(query_tracks, minlength=len(tracks)))])
    shapes: list[TrackShapes] = []
    for t, track in enumerate(tracks):
        a, b = int(bounds[t]), int(bounds[t + 1])
        sizes = np.broadcast_to(track.size, (b - a, 3))
        shapes.append(TrackShapes(query_frames[a:b], CuboidBatch(centers[a:b], sizes, quats[a:b])))
    return shapes


def to_ego_all(shapes_list: Sequence[TrackShapes], world_T_ego: FloatArray) -> list[TrackShapes]:
    """Express world-frame shapes in each frame's ego frame; ``world_T_ego`` is (num_frames, 4, 4).

    The same result as ``labelpilot.tracks.to_ego`` on each item, with one inverse per scene frame
    and one batched rotation product for all shapes (quaternion signs may differ: q and -q are one rotation).
    """
    poses = np.asarray(world_T_ego, dtype=np.float64)
    if not shapes_list:
        return []
    counts = [len(s) for s in shapes_list]
    frames = np.concatenate([s.frames for s in shapes_list]).astype(np.int64)
    if len(frames) == 0:
        return list(shapes_list)
    if frames.min() < 0 or frames.max() >= len(poses):
        raise ValueError(
            f"shapes reach frames {int(frames.min())}..{int(frames.max())}, "
            f"but only {len(poses)} ego poses were given"
        )
    ego_R_world = np.transpose(poses[:, :3, :3], (0, 2, 1))
    ego_t_world = -(ego_R_world @ poses[:, :3, 3:4])[:, :, 0]
    ego_q_world = np.asarray(Rotation.from_matrix(ego_R_world).as_quat(), dtype=np.float64)
    # Rows per frame (rotation, translation, quaternion) gathered per shape: contiguous rows make the
    # per-shape arithmetic several times faster than on (N, 3, 3) stacks.
    per_frame = np.vstack([ego_R_world.reshape(-1, 9).T, ego_t_world.T, ego_q_world.T])
    at = np.take(per_frame, frames, axis=1)
    world_centers = np.concatenate([s.cuboids.centers for s in shapes_list]).T
    world_quats = np.concatenate([s.cuboids.quats_xyzw for s in shapes_list]).T
    centers = at[9:12]
    for row in range(3):
        for col in range(3):
            centers[row] += at[3 * row + col] * world_centers[col]
    # A plain-array quaternion product: scipy's Rotation product is the slow step at this size.
    quats = _quat_multiply(at[12:16], world_quats)
    centers, quats = np.ascontiguousarray(centers.T), np.ascontiguousarray(quats.T)
    out: list[TrackShapes] = []
    start = 0
    for shapes, count in zip(shapes_list, counts, strict=True):
        end = start + count
        out.append(
            TrackShapes(
                shapes.frames, CuboidBatch(centers[start:end], shapes.cuboids.sizes, quats[start:end])
            )
        )
        start = end
    return out
