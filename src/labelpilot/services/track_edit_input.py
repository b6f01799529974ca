"""Validation of track edit input: labels, attributes, sizes, frames and poses as clients send them.

Every check raises InvalidError naming the offending field, so the editor can point at it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.spatial.transform import Rotation

from labelpilot.geometry import Pose
from labelpilot.services.errors import InvalidError
from labelpilot.tracks import AttributeValue

MAX_LABEL_LENGTH = 80
MAX_ATTRIBUTE_NAME_LENGTH = 80
GROUND_TRUTH = "ground_truth"
AUTO_PREFIX = "auto:"
CANDIDATES_PREFIX = "candidates:"
"""Candidate tracks computed from an auto layer (automation.candidates): machine-made, like auto:*."""
MAX_LAYER_NAME_LENGTH = 120
# A rotation sent as 9 matrix numbers must be orthonormal to this tolerance (JSON round trips of
# float64 matrices stay far below it; a hand-typed or scaled matrix does not).
ROTATION_TOLERANCE = 1e-6


def _finite_number(value: Any, field: str) -> float:
    # bool is an int subclass in Python, but true/false is never a coordinate.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidError(f"{field} must be a number, got {value!r}", field=field)
    number = float(value)
    if not math.isfinite(number):
        raise InvalidError(f"{field} must be finite, got {value!r}", field=field)
    return number


def _numbers(value: Any, count: int, field: str) -> list[float]:
    if not isinstance(value, list | tuple) or len(value) != count:
        raise InvalidError(f"{field} must be a list of {count} numbers", field=field)
    return [_finite_number(v, f"{field}[{i}]") for i, v in enumerate(value)]


def check_label(label: Any, field: str = "label") -> str:
    if not isinstance(label, str) or not label.strip():
        raise InvalidError("a label must be a non-empty string", field=field)
    clean = label.strip()
    if len(clean) > MAX_LABEL_LENGTH:
        raise InvalidError(f"a label has at most {MAX_LABEL_LENGTH} characters", field=field)
    return clean


def check_attributes(attributes: Any, field: str = "attributes") -> dict[str, AttributeValue]:
    """A flat object of JSON scalars (string, number, boolean); nested values and null are refused."""
    if not isinstance(attributes, Mapping):
        raise InvalidError("attributes must be an object of names to values", field=field)
    out: dict[str, AttributeValue] = {}
    for name, value in attributes.items():
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_ATTRIBUTE_NAME_LENGTH:
            raise InvalidError(
                f"attribute names need 1 to {MAX_ATTRIBUTE_NAME_LENGTH} characters, got {name!r}", field=field
            )
        where = f"{field}.{name}"
        if isinstance(value, bool | str):
            out[name] = value
        elif isinstance(value, int | float):
            out[name] = int(value) if isinstance(value, int) else _finite_number(value, where)
        else:
            raise InvalidError(f"attribute {name!r} must be a string, number or boolean", field=where)
    return out


def check_size(size: Any, field: str = "size") -> list[float]:
    """Length, width, height: three finite positive numbers."""
    values = _numbers(size, 3, field)
    for i, v in enumerate(values):
        if v <= 0:
            raise InvalidError(f"{field}[{i}] must be positive, got {v}", field=f"{field}[{i}]")
    return values


def check_frame(frame: Any, frame_count: int, field: str = "frame") -> int:
    if isinstance(frame, str) and frame.strip().lstrip("-").isdigit():
        frame = int(frame)  # JSON object keys arrive as strings
    if isinstance(frame, bool) or not isinstance(frame, int):
        raise InvalidError(f"{field} must be an integer frame index, got {frame!r}", field=field)
    if not 0 <= frame < frame_count:
        raise InvalidError(f"{field} {frame} is outside the scene's frames 0..{frame_count - 1}", field=field)
    return frame


def _rotation_from_matrix(values: list[float], field: str) -> Rotation:
    matrix = np.asarray(values, dtype=np.float64).reshape(3, 3)
    if not np.allclose(matrix.T @ matrix, np.eye(3), atol=ROTATION_TOLERANCE) or np.linalg.det(matrix) <= 0:
        raise InvalidError("the pose's 3x3 rotation is not a proper rotation matrix", field=field)
    return Rotation.from_matrix(matrix)


def parse_pose(value: Any, field: str = "pose") -> Pose:
    """A world pose as 12 numbers (3x4 row-major, as the API returns poses), or an object with
    ``center`` (3 numbers) and either ``yaw`` (radians about z) or ``quat_xyzw`` (4 numbers)."""
    if isinstance(value, list | tuple):
        numbers = _numbers(value, 12, field)
        rows = np.asarray(numbers, dtype=np.float64).reshape(3, 4)
        rotation = _rotation_from_matrix(rows[:, :3].reshape(-1).tolist(), field)
        return Pose.from_rotation_translation(rotation, rows[:, 3])
    if not isinstance(value, Mapping):
        raise InvalidError(f"{field} must be 12 numbers or an object with center and yaw", field=field)
    center = _numbers(value.get("center"), 3, f"{field}.center")
    if "yaw" in value:
        return Pose.from_yaw(_finite_number(value["yaw"], f"{field}.yaw"), center)
    if "quat_xyzw" in value:
        quat = np.asarray(_numbers(value["quat_xyzw"], 4, f"{field}.quat_xyzw"))
        if np.linalg.norm(quat) < 1e-9:
            raise InvalidError("a quaternion must not be zero", field=f"{field}.quat_xyzw")
        return Pose.from_quat_xyzw(quat / np.linalg.norm(quat), center)
    raise InvalidError(f"{field} needs a yaw or a quat_xyzw beside its center", field=field)


def parse_keyframes(keyframes: Any, frame_count: int, field: str = "keyframes") -> dict[int, Pose]:
    """``{frame: pose}``; at least one keyframe, every frame inside the scene."""
    if not isinstance(keyframes, Mapping) or not keyframes:
        raise InvalidError("keyframes must be a non-empty object of frame to pose", field=field)
    out: dict[int, Pose] = {}
    for key, pose in keyframes.items():
        frame = check_frame(key, frame_count, f"{field}.{key}")
        if frame in out:
            raise InvalidError(f"frame {frame} is given twice", field=f"{field}.{key}")
        out[frame] = parse_pose(pose, f"{field}.{key}")
    return dict(sorted(out.items()))


def check_layer_name(name: Any, field: str = "layer") -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_LAYER_NAME_LENGTH:
        raise InvalidError(f"a layer name needs 1 to {MAX_LAYER_NAME_LENGTH} characters", field=field)
    return name.strip()


def is_auto_layer(name: str) -> bool:
    """A machine-made layer (auto:*, candidates:*): nobody edits it; its candidates are confirmed elsewhere."""
    return name.startswith((AUTO_PREFIX, CANDIDATES_PREFIX))
