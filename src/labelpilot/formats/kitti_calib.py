"""KITTI calibration files, read into sensors and written back from a scene.

Frames used here:

- ``velo``: the Velodyne. LabelPilot's ego frame for KITTI is this frame (x forward, y left, z up).
- ``ref``: the rectified frame of camera 0 (x right, y down, z forward). ``R_rect @ Tr_velo_cam``
  (tracking) or ``Tr`` (odometry) maps velo to ref, and KITTI's 3D labels are expressed in it.
- camera i: the rectified frame of camera i. All rectified cameras share ref's axes;
  ``P_i = K_i [I | t_i]`` so a point p in ref is ``p + t_i`` in camera i, with ``t_i = inv(K_i) P_i[:, 3]``.
  KITTI's cameras: 0/1 the grey stereo pair, 2/3 the colour pair; image_02 is the left colour camera.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from labelpilot.formats.errors import FormatError
from labelpilot.formats.kitti_parsing import parse_floats, read_lines, rotation_block
from labelpilot.geometry import Pose
from labelpilot.scenes import CameraIntrinsics, CameraSensor

FloatArray = NDArray[np.float64]

PROJECTION_KEYS = ("P0", "P1", "P2", "P3")
CAMERA_NAMES = {"P0": "image_00", "P1": "image_01", "P2": "image_02", "P3": "image_03"}
LABEL_CAMERA = "image_02"
"""The camera KITTI tracking labels are drawn in (their 2D boxes are P2 projections)."""

TRACKING_IMAGE_SIZE = (1242, 375)
"""Width, height of KITTI tracking images (sequences 0000-0020), used when no image is at hand."""

# The tracking files name the rectification and the lidar extrinsic in two spellings.
_ALIASES = {"R0_rect": "R_rect", "Tr_velo_to_cam": "Tr_velo_cam", "Tr_imu_to_velo": "Tr_imu_velo"}


@dataclass(frozen=True, eq=False)
class KittiCalib:
    """The projection matrices P0..P3 and the velo -> ref transform (plus IMU -> velo where given)."""

    projections: Mapping[str, FloatArray]
    ref_T_velo: Pose
    velo_T_imu: Pose | None = None

    def camera_T_ref(self, key: str) -> Pose:
        """The rectified camera of projection ``key`` (e.g. ``"P2"``) relative to ref: a pure translation."""
        p = self.projections[key]
        return Pose.from_rotation_translation(np.eye(3), np.linalg.solve(p[:, :3], p[:, 3]))

    def intrinsics(self, key: str) -> FloatArray:
        return np.asarray(self.projections[key][:, :3], dtype=np.float64)


def _entries(path: Path) -> dict[str, tuple[int, list[str]]]:
    """Every ``key: numbers`` (or ``key numbers``) line, by canonical key, with its line number."""
    entries: dict[str, tuple[int, list[str]]] = {}
    for line, text in read_lines(path):
        key, colon, rest = text.partition(":")
        if colon:
            values = rest.split()
        else:
            key, *values = text.split()
        key = key.strip()
        entries[_ALIASES.get(key, key)] = (line, values)
    return entries


def _matrix(
    entries: dict[str, tuple[int, list[str]]], key: str, path: Path, rows: int, cols: int
) -> FloatArray:
    if key not in entries:
        raise FormatError(path, f"the calibration has no {key}", field=key)
    line, values = entries[key]
    if len(values) != rows * cols:
        raise FormatError(path, f"{key} needs {rows * cols} numbers, got {len(values)}", line=line, field=key)
    return parse_floats(values, path, line, key).reshape(rows, cols)


def _projections(entries: dict[str, tuple[int, list[str]]], path: Path) -> dict[str, FloatArray]:
    out: dict[str, FloatArray] = {}
    for key in PROJECTION_KEYS:
        p = _matrix(entries, key, path, 3, 4)
        k = p[:, :3]
        if abs(float(np.linalg.det(k))) < 1e-9 or not np.allclose(k[2], [0.0, 0.0, 1.0]):
            raise FormatError(
                path,
                f"{key} is not a rectified pinhole projection K [I | t]",
                line=entries[key][0],
                field=key,
            )
        out[key] = p
    return out


def _pose_3x4(entries: dict[str, tuple[int, list[str]]], key: str, path: Path) -> Pose:
    m = _matrix(entries, key, path, 3, 4)
    return Pose.from_rotation_translation(rotation_block(m[:, :3], path, entries[key][0], key), m[:, 3])


def read_tracking_calib(path: Path) -> KittiCalib:
    """A KITTI tracking calib file: P0..P3, R_rect (R0_rect), Tr_velo_cam, optional Tr_imu_velo."""
    entries = _entries(path)
    projections = _projections(entries, path)
    r_rect = rotation_block(_matrix(entries, "R_rect", path, 3, 3), path, entries["R_rect"][0], "R_rect")
    cam0_T_velo = _pose_3x4(entries, "Tr_velo_cam", path)
    velo_T_imu = _pose_3x4(entries, "Tr_imu_velo", path) if "Tr_imu_velo" in entries else None
    ref_T_cam0 = Pose.from_rotation_translation(r_rect, np.zeros(3))
    return KittiCalib(projections, ref_T_cam0 @ cam0_T_velo, velo_T_imu)


def read_odometry_calib(path: Path) -> KittiCalib:
    """A KITTI odometry calib file: P0..P3 and Tr (velo -> rectified camera 0)."""
    entries = _entries(path)
    return KittiCalib(_projections(entries, path), _pose_3x4(entries, "Tr", path))


def kitti_cameras(
    calib: KittiCalib,
    image_sizes: Mapping[str, tuple[int, int]],
    default_size: tuple[int, int],
    names: Mapping[str, str] = CAMERA_NAMES,
) -> dict[str, CameraSensor]:
    """The four rectified cameras as sensors of the velo (= ego) frame.

    Camera 0 is kept even when it has no images: it is the frame the 3D labels are written in.
    """
    cameras: dict[str, CameraSensor] = {}
    for key in PROJECTION_KEYS:
        name = names[key]
        width, height = image_sizes.get(name, default_size)
        camera_T_velo = calib.camera_T_ref(key) @ calib.ref_T_velo
        intrinsics = CameraIntrinsics(calib.intrinsics(key), width, height)
        cameras[name] = CameraSensor(name, camera_T_velo.inverse(), intrinsics)
    return cameras


# --- export ------------------------------------------------------------------------------------

_DEFAULT_K = np.array([[721.5377, 0.0, 609.5593], [0.0, 721.5377, 172.854], [0.0, 0.0, 1.0]])
"""Intrinsics of KITTI tracking's image_02, for scenes that have no camera at all."""

_EGO_R_FORWARD_CAMERA = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
"""A camera looking along ego x: camera x = ego -y (right), y = ego -z (down), z = ego x (forward)."""


@dataclass(frozen=True, eq=False)
class ExportCalib:
    """What writing KITTI needs from a scene: the label frame, the P2 camera and the file's matrices."""

    ref_T_ego: Pose
    label_camera: CameraSensor
    projections: Mapping[str, FloatArray]
    ref_T_velo: Pose


def _same_axes(a: Pose, b: Pose) -> bool:
    return bool(np.allclose(a.rotation_matrix, b.rotation_matrix, atol=1e-6))


def _projection(camera: CameraSensor, ref_T_ego: Pose) -> FloatArray:
    k = camera.intrinsics.matrix
    camera_T_ref = camera.ego_T_sensor.inverse() @ ref_T_ego.inverse()
    return np.hstack([k, (k @ camera_T_ref.translation)[:, None]])


def virtual_forward_camera() -> CameraSensor:
    """A KITTI-like camera at the ego origin looking forward, for scenes without cameras."""
    width, height = TRACKING_IMAGE_SIZE
    ego_T_camera = Pose.from_rotation_translation(_EGO_R_FORWARD_CAMERA, np.zeros(3))
    return CameraSensor(LABEL_CAMERA, ego_T_camera, CameraIntrinsics(_DEFAULT_K, width, height))


def export_calib(cameras: Mapping[str, CameraSensor], ego_T_lidar: Pose) -> ExportCalib:
    """Choose the label camera (P2) and the label frame (ref) for writing a scene as KITTI.

    A scene read from KITTI has image_00..image_03: ref is image_00's frame and P0..P3 are rebuilt
    exactly. Any other scene: its first camera plays image_02 and ref is that camera's own frame
    (P2 = K [I | 0], P0..P3 all equal); with no camera at all a virtual forward camera is used.
    R_rect is written as the identity and Tr_velo_cam as ref_T_lidar, which projects the same.
    """
    if LABEL_CAMERA in cameras:
        label_camera = cameras[LABEL_CAMERA]
    elif cameras:
        label_camera = next(iter(cameras.values()))
    else:
        label_camera = virtual_forward_camera()
    reference = cameras.get(CAMERA_NAMES["P0"], label_camera)
    if not _same_axes(reference.ego_T_sensor, label_camera.ego_T_sensor):
        reference = label_camera
    ref_T_ego = reference.ego_T_sensor.inverse()
    projections: dict[str, FloatArray] = {}
    for key, name in CAMERA_NAMES.items():
        camera = cameras.get(name)
        usable = camera is not None and _same_axes(camera.ego_T_sensor, reference.ego_T_sensor)
        projections[key] = _projection(camera if camera is not None and usable else label_camera, ref_T_ego)
    projections["P0"] = _projection(reference, ref_T_ego)
    return ExportCalib(ref_T_ego, label_camera, projections, ref_T_ego @ ego_T_lidar)


def _numbers(values: FloatArray) -> str:
    return " ".join(f"{v:.12e}" for v in values.reshape(-1))


def format_tracking_calib(calib: ExportCalib) -> str:
    """The calib file text, in the spelling of KITTI tracking's own files.

    LabelPilot does not model the IMU, so Tr_imu_to_velo is written as the identity.
    """
    lines = [f"{key}: {_numbers(calib.projections[key])}" for key in PROJECTION_KEYS]
    lines.append(f"R0_rect: {_numbers(np.eye(3))}")
    lines.append(f"Tr_velo_to_cam: {_numbers(calib.ref_T_velo.to_3x4())}")
    lines.append(f"Tr_imu_to_velo: {_numbers(np.eye(4)[:3])}")
    return "\n".join(lines) + "\n"
