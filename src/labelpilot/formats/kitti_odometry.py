"""KITTI odometry: Velodyne sweeps with ego poses (no labels), in two layouts.

(a) a folder of numbered PCD clouds, as in data/sample/kitti-odometry-00:
    ``clouds/<i>.pcd`` (or compact ``clouds/<i>.npz``, encoding ``cm-npz``), ``calib.txt`` (P0..P3, Tr), and poses either from a ground-truth file with
    times (``*_with_time.txt``: time in seconds + 12 numbers per line, row i = cloud i; preferred)
    or from ``poses_sova/<i>.txt`` (one 12-number line each). Frame times come from the
    ground-truth file, else 10 Hz.
(b) KITTI's own layout under a dataset root: ``sequences/NN/velodyne/NNNNNN.bin``,
    ``sequences/NN/calib.txt``, ``sequences/NN/times.txt`` and, for sequences 00-10,
    ``poses/NN.txt``; images in ``sequences/NN/image_{0..3}/`` are referenced where present.

Frames: ego = the Velodyne (x forward, y left, z up; KITTI's ego origin is the lidar), the lidar
sensor ``velodyne`` has the identity extrinsic, and world = the ego frame of the first frame.
Odometry poses are camera-0 poses (``Tr`` maps velo to rectified camera 0), so the ego poses are
``T_velo = inv(Tr) @ T_cam @ Tr``. Without poses the ego is taken as still.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from labelpilot.formats.errors import FormatError
from labelpilot.formats.kitti_calib import KittiCalib, kitti_cameras, read_odometry_calib
from labelpilot.formats.kitti_parsing import numbered_files, parse_float, read_lines
from labelpilot.formats.kitti_poses import PoseFile, ego_poses_from_camera, read_pose_file, require_rows
from labelpilot.geometry import Pose
from labelpilot.scenes import BlobRef, Frame, LidarSensor, Scene, still_poses

ODOMETRY_IMAGE_SIZE = (1241, 376)
"""Width, height of KITTI odometry images of sequences 00-02, used when no image is at hand."""
CAMERA_FOLDERS = {"P0": "image_0", "P1": "image_1", "P2": "image_2", "P3": "image_3"}
FRAME_PERIOD_US = 100_000
LIDAR_NAME = "velodyne"


@dataclass
class _Sequence:
    """One sequence's files, whichever layout they came from."""

    name: str
    sweep_folder: Path
    sweeps: dict[int, Path]
    encoding: str
    calib: KittiCalib
    images: dict[str, dict[int, Path]]
    poses: PoseFile | None
    pose_note: str
    times_s: list[float] | None
    times_path: Path | None = None


def _ego_poses(seq: _Sequence, indices: list[int]) -> list[Pose]:
    if seq.poses is None:
        return still_poses(len(indices))
    require_rows(seq.poses, indices[-1] + 1, f"sweeps go up to number {indices[-1]}")
    camera_poses = [seq.poses.poses[i] for i in indices]
    return ego_poses_from_camera(camera_poses, seq.calib.ref_T_velo.inverse())


def _timestamps(seq: _Sequence, indices: list[int]) -> list[int]:
    if seq.times_s is None or seq.times_path is None:
        return [i * FRAME_PERIOD_US for i in indices]
    if len(seq.times_s) <= indices[-1]:
        raise FormatError(
            seq.times_path,
            f"has {len(seq.times_s)} times but sweeps go up to number {indices[-1]}",
            line=len(seq.times_s) + 1,
        )
    return [round(seq.times_s[i] * 1e6) for i in indices]


def _image_size(files: dict[int, Path]) -> tuple[int, int]:
    path = next(iter(files.values()))
    try:
        with Image.open(path) as image:
            return image.size
    except OSError as exc:
        raise FormatError(path, f"cannot read the image: {exc}") from None


def _scene(seq: _Sequence) -> Scene:
    if not seq.sweeps:
        raise FormatError(seq.sweep_folder, f"no {seq.encoding} sweeps found", field="sweeps")
    indices = list(seq.sweeps)
    poses = _ego_poses(seq, indices)
    stamps = _timestamps(seq, indices)
    sizes = {name: _image_size(files) for name, files in seq.images.items() if files}
    cameras = kitti_cameras(seq.calib, sizes, ODOMETRY_IMAGE_SIZE, CAMERA_FOLDERS)
    frames = [
        Frame(
            index=i,
            timestamp_us=stamps[i],
            world_T_ego=poses[i],
            lidar=BlobRef(str(seq.sweeps[k]), seq.encoding),
            images={name: BlobRef(str(files[k]), "png") for name, files in seq.images.items() if k in files},
        )
        for i, k in enumerate(indices)
    ]
    notes = [
        "ego = the Velodyne frame (x forward, y left, z up; KITTI's ego origin is the lidar); "
        "world = the ego frame of the first frame",
        seq.pose_note,
        f"{len(frames)} sweeps ({seq.encoding}), numbers {indices[0]}..{indices[-1]}",
    ]
    if seq.times_s is None:
        notes.append("no times: frames are taken as 10 Hz")
    return Scene(
        name=seq.name,
        frames=frames,
        lidar=LidarSensor(LIDAR_NAME, Pose.identity()),
        cameras=cameras,
        source_format="kitti-odometry",
        notes=notes,
    )


# --- layout (a): clouds/ + calib.txt + GT-with-time or poses_sova/ -------------------------------


def _folder_sequence(folder: Path) -> str:
    match = re.search(r"(\d+)$", folder.name)
    return match.group(1) if match else folder.name


def _sova_poses(folder: Path, indices: list[int]) -> PoseFile:
    poses: list[Pose] = []
    for i in range(indices[-1] + 1):
        path = folder / f"{i}.txt"
        if not path.is_file():
            raise FormatError(path, f"missing: cloud {indices[-1]} needs a pose for every number up to it")
        single = read_pose_file(path)
        if len(single.poses) != 1:
            raise FormatError(path, f"expected one pose, got {len(single.poses)}", line=2)
        poses.append(single.poses[0])
    return PoseFile(folder, poses)


def _read_cloud_folder(folder: Path, sequence: str | None) -> Scene:
    name = _folder_sequence(folder)
    if sequence is not None and sequence.lstrip("0") != name.lstrip("0"):
        raise FormatError(
            folder, f"this folder holds sequence {name!r} only, not {sequence!r}", field="sequence"
        )
    encoding = "pcd"
    sweeps = numbered_files(folder / "clouds", ".pcd")
    if not sweeps:
        # the bundled demo drive keeps its sweeps compact (see formats.compact_sweeps)
        encoding, sweeps = "cm-npz", numbered_files(folder / "clouds", ".npz")
    if not sweeps:
        raise FormatError(folder / "clouds", "no .pcd (or .npz) clouds found", field="sweeps")
    calib = read_odometry_calib(folder / "calib.txt")
    gt_files = sorted(folder.glob("*_with_time.txt"))
    poses: PoseFile | None = None
    times: list[float] | None = None
    if gt_files:
        poses = read_pose_file(gt_files[0], with_time=True)
        times = poses.times_s
        note = f"poses: ground truth with times from {gt_files[0].name}"
    elif (folder / "poses_sova").is_dir():
        poses = _sova_poses(folder / "poses_sova", list(sweeps))
        note = "poses: sova estimates (poses_sova/), not the KITTI ground truth"
    else:
        note = "no poses: the ego is taken as still"
    times_path = gt_files[0] if gt_files else None
    return _scene(
        _Sequence(name, folder / "clouds", sweeps, encoding, calib, {}, poses, note, times, times_path)
    )


# --- layout (b): KITTI's sequences/NN/ + poses/NN.txt ----------------------------------------------


def available_sequences(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "sequences").glob("*") if (p / "velodyne").is_dir())


def _read_times(path: Path) -> list[float]:
    times: list[float] = []
    for line, text in read_lines(path):
        tokens = text.split()
        if len(tokens) != 1:
            raise FormatError(path, f"expected one time per line, got {len(tokens)} values", line=line)
        times.append(parse_float(tokens[0], path, line, "time"))
    return times


def _read_dataset_root(root: Path, sequence: str | None) -> Scene:
    known = available_sequences(root)
    if sequence is None:
        if len(known) != 1:
            raise FormatError(
                root, f"choose a sequence; this root holds: {', '.join(known) or 'none'}", field="sequence"
            )
        sequence = known[0]
    name = sequence.zfill(2) if sequence.isdigit() else sequence
    if name not in known:
        raise FormatError(
            root, f"no sequence {name!r}; this root holds: {', '.join(known) or 'none'}", field="sequence"
        )
    folder = root / "sequences" / name
    calib = read_odometry_calib(folder / "calib.txt")
    times_path = folder / "times.txt"
    times = _read_times(times_path) if times_path.is_file() else None
    pose_path = root / "poses" / f"{name}.txt"
    poses = read_pose_file(pose_path) if pose_path.is_file() else None
    note = (
        f"poses: KITTI odometry ground truth (poses/{name}.txt)"
        if poses
        else "no poses: the ego is taken as still"
    )
    images = {camera: numbered_files(folder / camera, ".png") for camera in CAMERA_FOLDERS.values()}
    seq = _Sequence(
        name,
        folder / "velodyne",
        numbered_files(folder / "velodyne", ".bin"),
        "kitti-bin",
        calib,
        {camera: files for camera, files in images.items() if files},
        poses,
        note,
        times,
        times_path,
    )
    return _scene(seq)


def read(path: Path, sequence: str | None = None) -> Scene:
    """A KITTI odometry sequence from either layout (see the module docstring)."""
    path = Path(path)
    if (path / "clouds").is_dir():
        return _read_cloud_folder(path, sequence)
    if (path / "sequences").is_dir():
        return _read_dataset_root(path, sequence)
    raise FormatError(
        path,
        "not a KITTI odometry folder: expected clouds/ (sova layout) or sequences/NN/velodyne/ (KITTI layout)",
        field="path",
    )
