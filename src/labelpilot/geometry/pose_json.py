"""The JSON form of a pose everywhere (API, database, stored keyframes): 12 numbers, the 3x4 row-major
matrix. JSON keeps Python floats exactly, so a pose survives the round trip bit for bit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from labelpilot.geometry.poses import Pose


def pose_to_json(pose: Pose) -> list[float]:
    return [float(v) for v in pose.matrix[:3, :].reshape(-1)]


def pose_from_json(values: Sequence[Any]) -> Pose:
    return Pose.from_3x4(np.asarray(values, dtype=np.float64))


def poses_by_frame_to_json(poses: Mapping[int, Pose]) -> dict[str, list[float]]:
    """Keyframes as the API takes them: frame (a string key) -> pose, in frame order."""
    return {str(frame): pose_to_json(pose) for frame, pose in sorted(poses.items())}
