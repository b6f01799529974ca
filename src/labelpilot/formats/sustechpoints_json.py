"""SUSTechPOINTS JSON files: camera calibration and per-frame 3D box labels, parsed and written.

calib/camera/<cam>.json: ``extrinsic`` (16 numbers, row-major 4x4 lidar -> camera; newer versions of
the tool call it ``lidar_to_camera``) and ``intrinsic`` (9 numbers, row-major 3x3).
label/<frame>.json: a list (or ``{"objs": [...]}`` in newer versions) of
``{"psr": {"position", "scale", "rotation"}, "obj_type", "obj_id"[, "obj_attr"]}``, each a box in the
lidar frame; ``rotation`` is Euler angles in radians applied as R = Rx(x) Ry(y) Rz(z) (three.js order
"XYZ", i.e. scipy's intrinsic "XYZ"); ``scale`` is the full size along the box's x, y, z.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from labelpilot.formats.errors import FormatError
from labelpilot.geometry import Cuboid, Pose

FloatArray = NDArray[np.float64]

EXTRINSIC_KEYS = ("extrinsic", "lidar_to_camera")
EULER_ORDER: Final = "XYZ"
_RIGID_TOLERANCE = 1e-3


@dataclass(frozen=True)
class CameraCalibration:
    camera_T_lidar: Pose
    intrinsic: FloatArray


@dataclass(frozen=True)
class LabelledBox:
    """One object of a label file: a cuboid in the lidar frame."""

    obj_id: str
    obj_type: str
    cuboid: Cuboid
    obj_attr: str | None = None


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise FormatError(path, f"invalid JSON: {err.msg}", line=err.lineno) from None
    except UnicodeDecodeError:
        raise FormatError(path, "not UTF-8 text") from None


def _numbers(path: Path, value: object, field: str, count: int) -> FloatArray:
    if not isinstance(value, list) or len(value) != count:
        raise FormatError(path, f"needs a list of {count} numbers", field=field)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise FormatError(path, "holds a value that is not a number", field=field)
    array = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise FormatError(path, "holds a NaN or infinite number", field=field)
    return array


def read_calibration(path: Path) -> CameraCalibration:
    data = _load_json(path)
    if not isinstance(data, dict):
        raise FormatError(path, "a camera calibration must be a JSON object")
    key = next((k for k in EXTRINSIC_KEYS if k in data), None)
    if key is None:
        raise FormatError(path, "missing the lidar -> camera matrix", field=EXTRINSIC_KEYS[0])
    matrix = _numbers(path, data[key], key, 16).reshape(4, 4)
    rotation = matrix[:3, :3]
    rigid = np.allclose(rotation @ rotation.T, np.eye(3), atol=_RIGID_TOLERANCE) and np.allclose(
        matrix[3], [0.0, 0.0, 0.0, 1.0]
    )
    if not rigid or np.linalg.det(rotation) < 0:
        raise FormatError(path, "is not a rigid transform (rotation + translation)", field=key)
    if "intrinsic" not in data:
        raise FormatError(path, "missing the camera matrix", field="intrinsic")
    intrinsic = _numbers(path, data["intrinsic"], "intrinsic", 9).reshape(3, 3)
    return CameraCalibration(Pose(matrix), intrinsic)


def calibration_json(calibration: CameraCalibration) -> dict[str, list[float]]:
    return {
        "extrinsic": [float(v) for v in calibration.camera_T_lidar.matrix.reshape(-1)],
        "intrinsic": [float(v) for v in calibration.intrinsic.reshape(-1)],
    }


def _vector(path: Path, psr: dict[str, Any], name: str, where: str) -> FloatArray:
    block = psr.get(name)
    field = f"{where}.psr.{name}"
    if not isinstance(block, dict):
        raise FormatError(path, "needs an object with x, y, z", field=field)
    values = []
    for axis in "xyz":
        v = block.get(axis)
        if not isinstance(v, int | float) or isinstance(v, bool) or not np.isfinite(v):
            raise FormatError(path, "must be a finite number", field=f"{field}.{axis}")
        values.append(float(v))
    return np.asarray(values)


def _box(path: Path, obj: object, index: int) -> LabelledBox:
    where = f"[{index}]"
    if not isinstance(obj, dict):
        raise FormatError(path, "a label must be a JSON object", field=where)
    psr = obj.get("psr")
    if not isinstance(psr, dict):
        raise FormatError(path, "missing the box (psr)", field=f"{where}.psr")
    position = _vector(path, psr, "position", where)
    scale = _vector(path, psr, "scale", where)
    if np.any(scale < 0):
        raise FormatError(
            path, f"a box size must not be negative, got {scale.tolist()}", field=f"{where}.psr.scale"
        )
    euler = _vector(path, psr, "rotation", where)
    obj_type = obj.get("obj_type")
    if not isinstance(obj_type, str) or not obj_type:
        raise FormatError(path, "needs a class name", field=f"{where}.obj_type")
    obj_id = obj.get("obj_id")
    if not isinstance(obj_id, str | int) or isinstance(obj_id, bool):
        raise FormatError(path, "needs a string or integer id", field=f"{where}.obj_id")
    attr = obj.get("obj_attr")
    quat = Rotation.from_euler(EULER_ORDER, euler).as_quat()
    return LabelledBox(
        str(obj_id), obj_type, Cuboid(position, scale, quat), attr if isinstance(attr, str) else None
    )


def read_labels(path: Path) -> list[LabelledBox]:
    data = _load_json(path)
    if isinstance(data, dict) and "objs" in data:
        data = data["objs"]
    if not isinstance(data, list):
        raise FormatError(path, "a label file must hold a list of objects (or {'objs': [...]})")
    boxes = [_box(path, obj, i) for i, obj in enumerate(data)]
    named = [b.obj_id for b in boxes if b.obj_id]
    if len(set(named)) != len(named):
        duplicate = next(i for i in named if named.count(i) > 1)
        raise FormatError(path, f"object id {duplicate!r} appears twice in one frame", field="obj_id")
    return boxes


def label_json(box: LabelledBox) -> dict[str, Any]:
    """One label object; the rotation is written as Euler x, y, z (order XYZ) in the lidar frame."""
    c = box.cuboid
    euler = c.rotation.as_euler(EULER_ORDER)
    obj: dict[str, Any] = {
        "psr": {
            "position": dict(zip("xyz", (float(v) for v in c.center), strict=True)),
            "scale": dict(zip("xyz", (float(v) for v in c.size), strict=True)),
            "rotation": dict(zip("xyz", (float(v) for v in euler), strict=True)),
        },
        "obj_type": box.obj_type,
        "obj_id": box.obj_id,
    }
    if box.obj_attr is not None:
        obj["obj_attr"] = box.obj_attr
    return obj


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
