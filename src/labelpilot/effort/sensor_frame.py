"""Keyframe interpolation as today's open-source tools do it: in the sensor frame, blind to ego motion.

Between two keyframes such a tool interpolates the box's pose relative to the sensor; beyond the last
keyframe it holds that relative pose. A parked car seen from a moving car therefore slides between
keyframes, which is exactly the cost the ``keyframes_sensor_frame`` workflow is there to show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from labelpilot.geometry import Pose
from labelpilot.scenes import Scene
from labelpilot.tracks import interpolate_poses


def sensor_frame_poses(scene: Scene, keyframes: Mapping[int, Pose], frames: Sequence[int]) -> list[Pose]:
    """World poses at ``frames`` of a box keyed by world poses at ``keyframes``, interpolated in the
    ego (sensor) frame of each frame."""
    ego_keys = {f: scene.frames[f].world_T_ego.inverse() @ pose for f, pose in keyframes.items()}
    centers, quats = interpolate_poses(ego_keys, frames)
    return [
        scene.frames[f].world_T_ego @ Pose.from_quat_xyzw(q, c)
        for f, c, q in zip(frames, centers, quats, strict=True)
    ]
