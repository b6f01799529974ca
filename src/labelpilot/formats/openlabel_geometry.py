"""OpenLABEL geometry at the boundary: transforms, cuboid values, frame intervals and timestamps.

Conventions (ASAM OpenLABEL 1.0.0, as in the schema text and the VCD reference library):
- ``transform_src_to_dst`` maps points: ``X_dst = M @ X_src``, so ``M`` is LabelPilot's ``dst_T_src``.
- ``pose_wrt_parent`` of a coordinate system maps its points into its parent: ``parent_T_child``.
- a cuboid ``val`` is ``[x, y, z, qx, qy, qz, qw, sx, sy, sz]`` or ``[x, y, z, rx, ry, rz, sx, sy, sz]``;
  the Euler form applies ``R = Rz(rz) @ Ry(ry) @ Rx(rx)`` (the default "ZYX" sequence).
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from labelpilot.formats.errors import FormatError
from labelpilot.geometry import Pose

FloatArray = NDArray[np.float64]

_ROTATION_TOLERANCE = 1e-6
_MICROSECONDS = decimal.Decimal(1_000_000)


def _numbers(value: Any, count: int, source: Path, field: str) -> FloatArray:
    """Exactly ``count`` finite numbers (booleans are not numbers here)."""
    if not isinstance(value, list) or len(value) != count:
        raise FormatError(source, f"needs a list of {count} numbers, got {value!r:.80}", field=field)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise FormatError(source, f"needs {count} numbers, got {value!r:.80}", field=field)
    array = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise FormatError(source, f"numbers must be finite, got {value!r:.80}", field=field)
    return array


def _rotation_from_quaternion(quat_xyzw: FloatArray, source: Path, field: str) -> Rotation:
    if float(np.linalg.norm(quat_xyzw)) < 1e-9:
        raise FormatError(source, "the quaternion is zero and encodes no rotation", field=field)
    return Rotation.from_quat(quat_xyzw)


def _rotation_from_euler(angles: FloatArray, sequence: str, source: Path, field: str) -> Rotation:
    # VCD applies the angles in the order the sequence names them: "ZYX" -> Rz @ Ry @ Rx (intrinsic).
    axes = sequence.upper()
    if len(axes) != 3 or set(axes) - set("XYZ") or axes[0] == axes[1] or axes[1] == axes[2]:
        raise FormatError(source, f"{sequence!r} is not an Euler sequence like 'ZYX'", field=field)
    return Rotation.from_euler(axes, angles)


def pose_from_transform_data(data: Any, source: Path, field: str) -> Pose:
    """A ``transform_data`` object (matrix4x4, quaternion + translation, or Euler + translation)."""
    if not isinstance(data, Mapping):
        raise FormatError(source, "a transform needs an object", field=field)
    if "matrix4x4" in data:
        matrix = _numbers(data["matrix4x4"], 16, source, f"{field}.matrix4x4").reshape(4, 4)
        rotation = matrix[:3, :3]
        off_orthonormal = float(np.abs(rotation.T @ rotation - np.eye(3)).max())
        if off_orthonormal > _ROTATION_TOLERANCE or float(np.linalg.det(rotation)) < 0.0:
            raise FormatError(
                source,
                f"the 3x3 block is not a rotation (|R^T R - I| = {off_orthonormal:.2e})",
                field=f"{field}.matrix4x4",
            )
        if not np.allclose(matrix[3], [0.0, 0.0, 0.0, 1.0]):
            raise FormatError(source, "the last row must be 0 0 0 1", field=f"{field}.matrix4x4")
        return Pose(matrix)
    translation = _numbers(data.get("translation"), 3, source, f"{field}.translation")
    if "quaternion" in data:
        quat = _numbers(data["quaternion"], 4, source, f"{field}.quaternion")
        rotation_q = _rotation_from_quaternion(quat, source, f"{field}.quaternion")
        return Pose.from_rotation_translation(rotation_q, translation)
    if "euler_angles" in data:
        angles = _numbers(data["euler_angles"], 3, source, f"{field}.euler_angles")
        sequence = data.get("sequence", "ZYX")
        if not isinstance(sequence, str):
            raise FormatError(source, "the Euler sequence must be a string", field=f"{field}.sequence")
        rotation_e = _rotation_from_euler(angles, sequence, source, f"{field}.sequence")
        return Pose.from_rotation_translation(rotation_e, translation)
    raise FormatError(source, "a transform needs matrix4x4, quaternion or euler_angles", field=field)


def transform_data(pose: Pose) -> dict[str, list[float]]:
    """A pose as ``transform_data``: the exact 4x4 matrix, row-major (no quaternion round-off)."""
    return {"matrix4x4": [float(v) for v in pose.matrix.reshape(-1)]}


def cuboid_from_val(val: Any, source: Path, field: str) -> tuple[Pose, FloatArray]:
    """The box pose in its coordinate system and its size (sx, sy, sz) from a cuboid ``val``."""
    if not isinstance(val, list) or len(val) not in (9, 10):
        raise FormatError(source, f"a cuboid needs 9 or 10 numbers, got {val!r:.80}", field=field)
    numbers = _numbers(val, len(val), source, field)
    center, size = numbers[:3], numbers[-3:]
    if np.any(size < 0.0):
        raise FormatError(source, f"cuboid size must not be negative, got {size.tolist()}", field=field)
    if len(numbers) == 10:
        rotation = _rotation_from_quaternion(numbers[3:7], source, field)
    else:
        rx, ry, rz = numbers[3:6]
        rotation = Rotation.from_euler("ZYX", [rz, ry, rx])
    return Pose.from_rotation_translation(rotation, center), size


def cuboid_val(center: FloatArray, quat_xyzw: FloatArray, size: FloatArray) -> list[float]:
    """The 10-value cuboid form: centre, quaternion x,y,z,w, size."""
    return [float(v) for v in (*center, *quat_xyzw, *size)]


def frame_intervals(frames: Iterable[int]) -> list[dict[str, int]]:
    """Closed intervals covering ``frames``, split wherever a frame is missing."""
    intervals: list[dict[str, int]] = []
    for frame in sorted(set(frames)):
        if intervals and intervals[-1]["frame_end"] == frame - 1:
            intervals[-1]["frame_end"] = frame
        else:
            intervals.append({"frame_start": frame, "frame_end": frame})
    return intervals


def timestamp_text(timestamp_us: int) -> str:
    """Seconds as a decimal string with six places: exact for integer microseconds.

    A string, not a float, because kognic's model accepts only int or str timestamps and a decimal
    string cannot lose microseconds to binary rounding.
    """
    sign = "-" if timestamp_us < 0 else ""
    seconds, micros = divmod(abs(timestamp_us), 1_000_000)
    return f"{sign}{seconds}.{micros:06d}"


def timestamp_us(value: Any, source: Path, field: str) -> int:
    """Integer microseconds from a timestamp in seconds (a number or a decimal string)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FormatError(
            source, f"a timestamp must be seconds as a number or string, got {value!r}", field=field
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise FormatError(source, f"a timestamp must be finite, got {value!r}", field=field)
    try:
        # str() of a float is its shortest exact repr, so Decimal sees the digits that were written
        seconds = decimal.Decimal(value if isinstance(value, str) else str(value))
    except decimal.InvalidOperation:
        raise FormatError(source, f"{value!r} is not a timestamp in seconds", field=field) from None
    if not seconds.is_finite():
        raise FormatError(source, f"a timestamp must be finite, got {value!r}", field=field)
    return int((seconds * _MICROSECONDS).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))


def median_size(sizes: Sequence[FloatArray]) -> tuple[FloatArray, bool]:
    """The per-axis median of a track's sizes, and whether they disagree by more than a micrometre."""
    stacked = np.stack(sizes)
    return np.median(stacked, axis=0), bool(np.ptp(stacked, axis=0).max() > 1e-6)
