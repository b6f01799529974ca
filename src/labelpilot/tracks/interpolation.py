"""Derive a track's per-frame cuboids by interpolation in the world frame.

Positions are linear between keyframes, rotations spherical-linear (for yaw-only boxes this is
the shortest arc), the size is the track's one size. Before the first and after the last
keyframe the nearest keyframe is held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation, Slerp

from labelpilot.geometry import CuboidBatch, Pose
from labelpilot.tracks.model import Keyframed, Stationary, Track

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class TrackShapes:
    """The cuboids of one track at ``frames`` (ascending), in one coordinate frame."""

    frames: IntArray
    cuboids: CuboidBatch

    def __len__(self) -> int:
        return len(self.frames)


def interpolate_poses(
    keyframes: dict[int, Pose], frames: Sequence[int] | IntArray
) -> tuple[FloatArray, FloatArray]:
    """World centres (N x 3) and quaternions x,y,z,w (N x 4) at ``frames``."""
    query = np.asarray(frames, dtype=np.float64)
    key_frames = np.array(sorted(keyframes), dtype=np.float64)
    key_poses = [keyframes[int(f)] for f in key_frames]
    key_t = np.stack([p.translation for p in key_poses])
    if len(key_frames) == 1:
        return np.repeat(key_t, len(query), axis=0), np.repeat(
            key_poses[0].quat_xyzw[None], len(query), axis=0
        )
    clamped = np.clip(query, key_frames[0], key_frames[-1])
    centers = np.stack([np.interp(clamped, key_frames, key_t[:, i]) for i in range(3)], axis=1)
    rotations = Rotation.from_matrix(np.stack([p.rotation_matrix for p in key_poses]))
    quats = Slerp(key_frames, rotations)(clamped).as_quat()
    return centers, np.asarray(quats, dtype=np.float64)


def world_shapes(track: Track, frames: Sequence[int] | None = None) -> TrackShapes:
    """The track's cuboids in the world frame at ``frames`` (default: every frame where it has a shape)."""
    wanted = np.asarray(
        track.frames() if frames is None else [f for f in frames if track.has_shape(f)], dtype=np.int64
    )
    n = len(wanted)
    sizes = np.repeat(track.size[None], n, axis=0)
    motion = track.motion
    if isinstance(motion, Stationary):
        centers = np.repeat(motion.world_pose.translation[None], n, axis=0)
        quats = np.repeat(motion.world_pose.quat_xyzw[None], n, axis=0)
    elif isinstance(motion, Keyframed):
        centers, quats = interpolate_poses(dict(motion.keyframes), wanted)
    else:  # pragma: no cover - Motion is a closed union
        raise TypeError(f"unknown motion {motion!r}")
    return TrackShapes(wanted, CuboidBatch(centers, sizes, quats))


def to_ego(shapes: TrackShapes, world_T_ego: FloatArray) -> TrackShapes:
    """Express world-frame shapes in each frame's ego frame; ``world_T_ego`` is (num_frames, 4, 4)."""
    if len(shapes) == 0:
        return shapes
    ego_T_world = np.linalg.inv(world_T_ego[shapes.frames])
    rot = ego_T_world[:, :3, :3]
    centers = np.einsum("nij,nj->ni", rot, shapes.cuboids.centers) + ego_T_world[:, :3, 3]
    box_rot = np.einsum("nij,njk->nik", rot, shapes.cuboids.rotation_matrices())
    quats = Rotation.from_matrix(box_rot).as_quat()
    return TrackShapes(shapes.frames, CuboidBatch(centers, shapes.cuboids.sizes, quats))
