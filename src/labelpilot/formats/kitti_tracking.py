"""KITTI multi-object tracking: read a sequence into a Scene, write a layer back as KITTI.

Layout under the root: ``training/{calib,label_02}/SSSS.txt``, ``training/image_02/SSSS/FFFFFF.png``,
optional ``training/velodyne/SSSS/FFFFFF.bin``, ``detections/<detector>_<Class>/SSSS.txt``,
``tracker/<name>/SSSS.txt`` and ``poses/<source>/SSSS.txt``.

Frames (see DESIGN.md):

- ego = the Velodyne frame (x forward, y left, z up). KITTI's ego origin is therefore the lidar
  itself, about 1.73 m above the road, not a point on the ground below the rear axle.
  The lidar sensor ``velodyne`` has the identity extrinsic.
- cameras ``image_00``..``image_03`` are the four rectified cameras of the calib file
  (``ego_T_sensor`` from R_rect, Tr_velo_cam and the offset of P_i). Only image_02 has images in
  the tracking benchmark; image_00 is kept because its rectified frame is the one KITTI's 3D labels
  (and exported labels) are expressed in.
- world = the ego frame of frame 0. The pose files hold W_T_cam of the left camera of the stereo
  pair that ORB-SLAM3 ran on. The tracking benchmark ships only the colour pair (image_02/03), and
  the source repository's settings are for colour (RGB) images, so the left camera is the
  rectified image_02: ``world_T_ego(i) = ego_T_cam2 @ W_T_cam2(i) @ cam2_T_ego``. (Taking camera 0
  instead would differ only by P2's 6 cm offset turned through the ego rotation.)
  Without poses the ego is taken as still.

Frames are 10 Hz (timestamps 100 000 us apart); the frame count is the larger of the pose rows and
one past the highest frame any label, detection or tracker line names. Layers: ``ground_truth``
(training/label_02), ``auto:<detector>`` (detections, one single-frame candidate per box) and
``auto:<tracker>`` (one candidate track per tracker id); see ``kitti_layers`` for what each keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from labelpilot.formats.errors import FormatError
from labelpilot.formats.kitti_calib import (
    LABEL_CAMERA,
    TRACKING_IMAGE_SIZE,
    kitti_cameras,
    read_tracking_calib,
)
from labelpilot.formats.kitti_export import write_layer
from labelpilot.formats.kitti_labels import LabelFile, LabelRow, read_detection_file, read_label_file
from labelpilot.formats.kitti_layers import BoxPlacer, detection_layer, ground_truth_layer, tracker_layer
from labelpilot.formats.kitti_parsing import numbered_files
from labelpilot.formats.kitti_poses import PoseFile, ego_poses_from_camera, read_pose_file, require_rows
from labelpilot.geometry import Pose
from labelpilot.scenes import BlobRef, Frame, LidarSensor, Scene, still_poses

FRAME_PERIOD_US = 100_000
LIDAR_NAME = "velodyne"


@dataclass
class _Sources:
    """The files of one sequence, parsed but not yet placed in the world."""

    labels: LabelFile | None = None
    detections: dict[str, list[LabelRow]] = field(default_factory=dict)
    trackers: dict[str, LabelFile] = field(default_factory=dict)
    images: dict[int, Path] = field(default_factory=dict)
    sweeps: dict[int, Path] = field(default_factory=dict)

    def max_frame(self) -> int:
        candidates = [-1, *self.images, *self.sweeps]
        if self.labels is not None:
            candidates.append(self.labels.max_frame)
        candidates += [r.frame for rows in self.detections.values() for r in rows]
        candidates += [f.max_frame for f in self.trackers.values()]
        return max(candidates)


def _sequence_name(sequence: str) -> str:
    return sequence.zfill(4) if sequence.isdigit() else sequence


def available_sequences(root: Path) -> list[str]:
    """Sequences with a calibration or a label file under ``root``."""
    names = {p.stem for sub in ("calib", "label_02") for p in (root / "training" / sub).glob("*.txt")}
    return sorted(names)


def _pick_sequence(root: Path, sequence: str | None) -> str:
    if not (root / "training").is_dir():
        raise FormatError(root, "not a KITTI tracking root: there is no training/ folder", field="path")
    known = available_sequences(root)
    if sequence is None:
        if len(known) == 1:
            return known[0]
        listing = ", ".join(known) or "none"
        raise FormatError(root, f"choose a sequence; this root holds: {listing}", field="sequence")
    name = _sequence_name(sequence)
    if name not in known:
        raise FormatError(
            root, f"no sequence {name!r}; this root holds: {', '.join(known) or 'none'}", field="sequence"
        )
    return name


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def _read_sources(root: Path, sequence: str) -> _Sources:
    sources = _Sources()
    label_path = root / "training" / "label_02" / f"{sequence}.txt"
    if label_path.is_file():
        sources.labels = read_label_file(label_path, with_score=False)
    for folder in _subfolders(root / "detections"):
        path = folder / f"{sequence}.txt"
        if path.is_file():
            # Folders are <detector>_<Class> (e.g. pointrcnn_Car): one layer per detector.
            detector = folder.name.rpartition("_")[0] or folder.name
            sources.detections.setdefault(detector, []).extend(read_detection_file(path))
    for folder in _subfolders(root / "tracker"):
        path = folder / f"{sequence}.txt"
        if path.is_file():
            sources.trackers[folder.name] = read_label_file(path, with_score=True)
    sources.images = numbered_files(root / "training" / "image_02" / sequence, ".png")
    sources.sweeps = numbered_files(root / "training" / "velodyne" / sequence, ".bin")
    return sources


def _pick_poses(root: Path, sequence: str, poses_name: str | None) -> tuple[str, PoseFile] | str:
    """The pose file to use and its source name, or a note saying why there is none."""
    folders = _subfolders(root / "poses")
    if poses_name is not None:
        path = root / "poses" / poses_name / f"{sequence}.txt"
        if not path.is_file():
            have = ", ".join(p.name for p in folders) or "none"
            raise FormatError(
                path, f"no poses {poses_name!r} for this sequence (pose sources: {have})", field="poses"
            )
        return poses_name, read_pose_file(path)
    with_sequence = [p for p in folders if (p / f"{sequence}.txt").is_file()]
    if not with_sequence:
        return "no poses: the ego is taken as still"
    chosen = with_sequence[0]
    return chosen.name, read_pose_file(chosen / f"{sequence}.txt")


def _image_size(images: dict[int, Path]) -> tuple[int, int]:
    if not images:
        return TRACKING_IMAGE_SIZE
    path = next(iter(images.values()))
    try:
        with Image.open(path) as image:
            return image.size
    except OSError as exc:
        raise FormatError(path, f"cannot read the image: {exc}") from None


def read_sequence(root: Path, sequence: str | None = None, poses_name: str | None = None) -> Scene:
    """One KITTI tracking sequence; ``poses_name`` picks a folder under poses/ (default: the first)."""
    root = Path(root)
    name = _pick_sequence(root, sequence)
    calib = read_tracking_calib(root / "training" / "calib" / f"{name}.txt")
    sources = _read_sources(root, name)
    cameras = kitti_cameras(calib, {LABEL_CAMERA: _image_size(sources.images)}, TRACKING_IMAGE_SIZE)
    ego_T_cam = cameras[LABEL_CAMERA].ego_T_sensor
    needed = sources.max_frame() + 1
    picked = _pick_poses(root, name, poses_name)
    notes = [
        "ego = the Velodyne frame (x forward, y left, z up; KITTI's ego origin is the lidar); "
        "world = the ego frame of frame 0",
    ]
    if isinstance(picked, str):
        world_T_ego: list[Pose] = still_poses(max(needed, 1))
        notes.append(picked)
    else:
        pose_name, pose_file = picked
        require_rows(
            pose_file, needed, f"labels, detections, tracker results or images reach frame {needed - 1}"
        )
        world_T_ego = ego_poses_from_camera(pose_file.poses, ego_T_cam)
        others = [p.name for p in _subfolders(root / "poses") if p.name != pose_name]
        also = f" (also available: {', '.join(others)})" if others else ""
        notes.append(f"poses: {pose_name}{also}; {LABEL_CAMERA} camera-to-world poses moved to the Velodyne")
    frames = [
        Frame(
            index=i,
            timestamp_us=i * FRAME_PERIOD_US,
            world_T_ego=pose,
            lidar=BlobRef(str(sources.sweeps[i]), "kitti-bin") if i in sources.sweeps else None,
            images={LABEL_CAMERA: BlobRef(str(sources.images[i]), "png")} if i in sources.images else {},
        )
        for i, pose in enumerate(world_T_ego)
    ]
    scene = Scene(
        name=name,
        frames=frames,
        lidar=LidarSensor(LIDAR_NAME, Pose.identity()),
        cameras=cameras,
        source_format="kitti-tracking",
    )
    notes.append(
        f"sequence {name}: {len(frames)} frames at 10 Hz; {LABEL_CAMERA} images for {len(sources.images)}, "
        f"lidar sweeps for {len(sources.sweeps)}"
    )
    placer = BoxPlacer(cameras["image_00"].ego_T_sensor, world_T_ego)
    if sources.labels is not None:
        layer, note = ground_truth_layer(sources.labels, placer, LABEL_CAMERA)
        scene.add_layer(layer)
        notes.append(note)
    for detector, rows in sources.detections.items():
        layer, note = detection_layer(detector, rows, placer)
        scene.add_layer(layer)
        notes.append(note)
    for tracker, file in sources.trackers.items():
        layer, note = tracker_layer(tracker, file, placer)
        scene.add_layer(layer)
        notes.append(note)
    scene.notes.extend(notes)
    return scene


def read(path: Path, sequence: str | None = None) -> Scene:
    """The format contract's reader: ``read_sequence`` with the default pose source."""
    return read_sequence(path, sequence)


def write(scene: Scene, out: Path, layer: str | None = None) -> list[Path]:
    """Write ``layer`` (default ``ground_truth``) as KITTI tracking under ``out``; see ``kitti_export``."""
    return write_layer(scene, Path(out), layer or "ground_truth")
