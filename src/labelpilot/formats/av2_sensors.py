"""Argoverse 2 ego poses, camera calibration and lidar sweep files.

- ``city_SE3_egovehicle.feather``: city_T_ego at ~200 Hz, one row per timestamp_ns.
  Annotation timestamps are lidar sweep times and each has a pose row with the exact same
  timestamp, so the importer looks poses up exactly and never interpolates them.
- ``calibration/egovehicle_SE3_sensor.feather``: ego_T_sensor per sensor (cameras and the two
  lidars). AV2 camera frames already follow the OpenCV convention (x right, y down, z out of
  the lens; av2-api's ``PinholeCamera`` applies K to camera coordinates directly), so the
  extrinsics are taken as they are.
- ``calibration/intrinsics.feather``: fx, fy, cx, cy, image size and radial distortion k1..k3.
- ``sensors/lidar/<timestamp_ns>.feather``: sweeps, already in the ego frame at that time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from labelpilot.formats.av2_tables import FeatherTable
from labelpilot.formats.errors import FormatError
from labelpilot.geometry import Pose
from labelpilot.scenes import BlobRef, CameraIntrinsics, CameraSensor

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

POSES_FILE = "city_SE3_egovehicle.feather"
INTRINSICS_FILE = Path("calibration") / "intrinsics.feather"
EXTRINSICS_FILE = Path("calibration") / "egovehicle_SE3_sensor.feather"
LIDAR_DIR = Path("sensors") / "lidar"
SWEEP_ENCODING = "av2-feather"

_POSE_COLUMNS = ("qw", "qx", "qy", "qz", "tx_m", "ty_m", "tz_m")
_TRANSLATION = ("tx_m", "ty_m", "tz_m")
_INTRINSIC_COLUMNS = ("sensor_name", "fx_px", "fy_px", "cx_px", "cy_px", "width_px", "height_px")
_DISTORTION_COLUMNS = ("k1", "k2", "k3")


def pose_matrices(quats_xyzw: FloatArray, translations: FloatArray) -> FloatArray:
    """(N, 4, 4) rigid transforms from N quaternions (x, y, z, w) and N translations."""
    matrices = np.zeros((len(quats_xyzw), 4, 4))
    if len(quats_xyzw):
        matrices[:, :3, :3] = Rotation.from_quat(quats_xyzw).as_matrix()
    matrices[:, :3, 3] = translations
    matrices[:, 3, 3] = 1.0
    return matrices


def read_ego_poses(path: Path, timestamps_ns: IntArray) -> FloatArray:
    """(F, 4, 4) city_T_ego at each of ``timestamps_ns``, matched exactly."""
    table = FeatherTable.read(path, ("timestamp_ns", *_POSE_COLUMNS))
    stamps = table.ints("timestamp_ns")
    order = np.argsort(stamps, kind="stable")
    sorted_stamps = stamps[order]
    repeated = np.flatnonzero(np.diff(sorted_stamps) == 0)
    if repeated.size:
        row = int(order[repeated[0] + 1])
        raise FormatError(
            path, f"row {row}: timestamp {sorted_stamps[repeated[0]]} has two poses", field="timestamp_ns"
        )
    at = np.clip(np.searchsorted(sorted_stamps, timestamps_ns), 0, max(len(stamps) - 1, 0))
    found = (sorted_stamps[at] == timestamps_ns) if len(stamps) else np.zeros(len(timestamps_ns), bool)
    if not found.all():
        missing = timestamps_ns[~found]
        raise FormatError(
            path,
            f"no ego pose with timestamp_ns {missing[0]} (an annotation timestamp); "
            f"{len(missing)} annotation timestamp(s) lack an exact pose row",
            field="timestamp_ns",
        )
    rows = order[at]
    quats = table.unit_quaternions_xyzw()[rows]
    return pose_matrices(quats, table.vectors(_TRANSLATION)[rows])


def read_extrinsics(path: Path) -> dict[str, Pose]:
    """ego_T_sensor for every sensor named in egovehicle_SE3_sensor.feather."""
    table = FeatherTable.read(path, ("sensor_name", *_POSE_COLUMNS))
    names = table.strings("sensor_name")
    matrices = pose_matrices(table.unit_quaternions_xyzw(), table.vectors(_TRANSLATION))
    poses: dict[str, Pose] = {}
    for row, name in enumerate(names):
        if name in poses:
            raise FormatError(path, f"row {row}: sensor {name!r} appears twice", field="sensor_name")
        poses[name] = Pose(matrices[row])
    return poses


def read_cameras(log_dir: Path) -> dict[str, CameraSensor]:
    """The cameras of a log's calibration; empty when the log has no calibration directory."""
    intrinsics_path, extrinsics_path = log_dir / INTRINSICS_FILE, log_dir / EXTRINSICS_FILE
    if not intrinsics_path.exists() and not extrinsics_path.exists():
        return {}
    for needed in (intrinsics_path, extrinsics_path):
        if not needed.is_file():
            raise FormatError(needed, "missing: camera calibration needs both intrinsics and extrinsics")
    ego_T_sensor = read_extrinsics(extrinsics_path)
    table = FeatherTable.read(intrinsics_path, _INTRINSIC_COLUMNS)
    names = table.strings("sensor_name")
    fx, fy = table.positive("fx_px"), table.positive("fy_px")
    cx, cy = table.floats("cx_px"), table.floats("cy_px")
    width, height = table.positive("width_px"), table.positive("height_px")
    # AV2's distortion is radial only; stored in OpenCV's (k1, k2, p1, p2, k3) order.
    radial = [table.floats(c) if table.has(c) else np.zeros(len(table)) for c in _DISTORTION_COLUMNS]
    cameras: dict[str, CameraSensor] = {}
    for row, name in enumerate(names):
        if name in cameras:
            raise FormatError(
                intrinsics_path, f"row {row}: camera {name!r} appears twice", field="sensor_name"
            )
        if name not in ego_T_sensor:
            raise FormatError(
                extrinsics_path,
                f"no extrinsics for camera {name!r} (row {row} of intrinsics)",
                field="sensor_name",
            )
        k = np.array([[fx[row], 0.0, cx[row]], [0.0, fy[row], cy[row]], [0.0, 0.0, 1.0]])
        distortion = (float(radial[0][row]), float(radial[1][row]), 0.0, 0.0, float(radial[2][row]))
        intrinsics = CameraIntrinsics(k, int(width[row]), int(height[row]), distortion)
        cameras[name] = CameraSensor(name, ego_T_sensor[name], intrinsics)
    return cameras


def lidar_sweeps(log_dir: Path, timestamps_ns: IntArray) -> tuple[list[BlobRef | None], int]:
    """The sweep file of each timestamp (None where absent), and how many sweep files matched no frame."""
    folder = log_dir / LIDAR_DIR
    by_stamp: dict[int, Path] = {}
    if folder.is_dir():
        for sweep in folder.glob("*.feather"):
            if sweep.stem.isdigit():
                by_stamp[int(sweep.stem)] = sweep
    refs: list[BlobRef | None] = []
    for stamp in timestamps_ns.tolist():
        file = by_stamp.pop(int(stamp)) if int(stamp) in by_stamp else None
        refs.append(None if file is None else BlobRef(str(file), SWEEP_ENCODING))
    return refs, len(by_stamp)
