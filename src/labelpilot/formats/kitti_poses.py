"""KITTI odometry pose files: one camera-to-world pose per line, 12 numbers (3x4 row-major),
optionally preceded by a time in seconds. The world is the camera at the first pose.

LabelPilot's ego frame for KITTI is the Velodyne, so camera poses are moved onto it:
``world_T_ego(i) = ego_T_cam @ W_T_cam(i) @ cam_T_ego``. This makes the world the ego frame of
the first pose (where W_T_cam is the identity), and is exact for any rigid camera mounting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from labelpilot.formats.errors import FormatError
from labelpilot.formats.kitti_parsing import parse_float, parse_floats, read_lines, rotation_block
from labelpilot.geometry import Pose


@dataclass(frozen=True, eq=False)
class PoseFile:
    path: Path
    poses: list[Pose]
    times_s: list[float] | None = None


def read_pose_file(path: Path, *, with_time: bool = False) -> PoseFile:
    """Every line's pose (and time, ``with_time``); bad lines raise FormatError with the line."""
    columns = 13 if with_time else 12
    poses: list[Pose] = []
    times: list[float] = []
    for line, text in read_lines(path):
        tokens = text.split()
        if len(tokens) != columns:
            raise FormatError(path, f"a pose line needs {columns} numbers, got {len(tokens)}", line=line)
        if with_time:
            times.append(parse_float(tokens[0], path, line, "time"))
            tokens = tokens[1:]
        values = parse_floats(tokens, path, line, "pose").reshape(3, 4)
        rotation = rotation_block(values[:, :3], path, line, "pose")
        poses.append(Pose.from_rotation_translation(rotation, values[:, 3]))
    if not poses:
        raise FormatError(path, "the pose file has no poses")
    return PoseFile(path, poses, times if with_time else None)


def require_rows(pose_file: PoseFile, needed: int, why: str) -> None:
    """A pose file must cover every frame in use; the first missing line is named."""
    if len(pose_file.poses) < needed:
        raise FormatError(
            pose_file.path,
            f"has {len(pose_file.poses)} poses but {needed} frames are needed ({why})",
            line=len(pose_file.poses) + 1,
        )


def ego_poses_from_camera(camera_poses: Sequence[Pose], ego_T_cam: Pose) -> list[Pose]:
    """world_T_ego per frame from W_T_cam, with the world re-anchored at the first ego pose."""
    cam_T_ego = ego_T_cam.inverse()
    moved = [ego_T_cam @ w_T_cam @ cam_T_ego for w_T_cam in camera_poses]
    if not moved:
        return moved
    # KITTI files start at the identity; a file cut from the middle of a drive does not, and the
    # scene's world is still the first ego frame.
    first_inverse = moved[0].inverse()
    return [first_inverse @ pose for pose in moved]


def camera_poses_from_ego(ego_poses: Sequence[Pose], ego_T_cam: Pose) -> list[Pose]:
    """The inverse of ``ego_poses_from_camera``: W_T_cam per frame, the first being the identity."""
    if not ego_poses:
        return []
    world0_T_world = ego_poses[0].inverse()
    cam_T_ego = ego_T_cam.inverse()
    return [cam_T_ego @ world0_T_world @ pose @ ego_T_cam for pose in ego_poses]


def format_pose_lines(poses: Sequence[Pose]) -> str:
    return "".join(pose.to_kitti_line() + "\n" for pose in poses)
