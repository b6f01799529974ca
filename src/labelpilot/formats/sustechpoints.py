"""SUSTechPOINTS scenes: lidar/<frame>.pcd, camera/<cam>/<frame>.jpg, calib/camera/<cam>.json, label/<frame>.json.

Conventions at this boundary:
- SUSTechPOINTS has no ego poses: the ego frame is the lidar frame and is taken as still (identity
  world_T_ego); boxes are labelled in the lidar frame, so world = ego = lidar.
- Frames are the lidar files in sorted name order; timestamps are 10 Hz by that order (the format stores
  no times). The frame names live on in ``Frame.lidar`` urls and a scene note; ``write`` restores them.
- calib extrinsic maps lidar -> camera (camera_T_lidar), so a camera's ``ego_T_sensor`` is its inverse.
- Layer ``ground_truth``: one track per obj_id with a keyframe at each labelled frame; a track's one size
  is the median of its labelled sizes (noted where they differ).
JSON details are in ``sustechpoints_json``.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from labelpilot.formats.errors import FormatError
from labelpilot.formats.pcd import check_pcd, write_pcd
from labelpilot.formats.staging import staged_tree
from labelpilot.formats.sustechpoints_json import (
    CameraCalibration,
    LabelledBox,
    calibration_json,
    label_json,
    read_calibration,
    read_labels,
    write_json,
)
from labelpilot.formats.sweeps import local_path, read_sweep
from labelpilot.geometry import Cuboid, Pose
from labelpilot.scenes import (
    BlobRef,
    CameraIntrinsics,
    CameraSensor,
    LidarSensor,
    Scene,
    frames_from_poses,
    still_poses,
)
from labelpilot.tracks import AnnotationLayer, Keyframed, Provenance, Track, TrackStatus

SOURCE_FORMAT = "sustechpoints"
FRAME_PERIOD_US = 100_000
LIDAR_NAME = "lidar"
LIDAR_ENCODINGS = {".pcd": "pcd", ".bin": "kitti-bin"}
IMAGE_ENCODINGS = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png"}


# --- reading ---------------------------------------------------------------------------------------
def _scene_dir(path: Path, sequence: str | None) -> Path:
    """The scene folder: ``path`` itself, ``path/sequence``, or the only scene under ``path``."""
    if sequence is not None:
        path = path / sequence
    if (path / "lidar").is_dir():
        return path
    scenes = sorted(p.name for p in path.iterdir() if (p / "lidar").is_dir()) if path.is_dir() else []
    if len(scenes) == 1 and sequence is None:
        return path / scenes[0]
    hint = f"; pick one of {', '.join(scenes)}" if scenes else ""
    raise FormatError(path, f"not a SUSTechPOINTS scene (no lidar/ folder){hint}")


def _lidar_files(scene_dir: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for p in sorted((scene_dir / "lidar").iterdir()):
        if p.is_file() and p.suffix.lower() in LIDAR_ENCODINGS:
            if p.stem in files:
                raise FormatError(p, f"frame {p.stem!r} has two lidar files")
            files[p.stem] = p
    if not files:
        raise FormatError(scene_dir / "lidar", "holds no .pcd (or .bin) lidar files")
    # Sweeps are read lazily, so check now (headers and sizes only) that each one is whole.
    for p in files.values():
        if LIDAR_ENCODINGS[p.suffix.lower()] == "pcd":
            check_pcd(p)
        elif p.stat().st_size % 16:
            raise FormatError(p, "not a whole number of 16-byte x,y,z,intensity float32 records")
    return files


def _image_size(path: Path) -> tuple[int, int]:
    try:
        with Image.open(path) as image:
            return image.size
    except (UnidentifiedImageError, OSError) as err:
        raise FormatError(path, f"not a readable image: {err}") from None


def _read_cameras(
    scene_dir: Path, frame_names: list[str], notes: list[str]
) -> tuple[dict[str, CameraSensor], dict[str, dict[str, Path]]]:
    """Cameras with a calibration file, and each camera's image per frame name."""
    cameras: dict[str, CameraSensor] = {}
    images: dict[str, dict[str, Path]] = {}
    camera_root = scene_dir / "camera"
    for cam_dir in sorted(camera_root.iterdir()) if camera_root.is_dir() else []:
        if not cam_dir.is_dir():
            continue
        by_frame = {p.stem: p for p in sorted(cam_dir.iterdir()) if p.suffix.lower() in IMAGE_ENCODINGS}
        by_frame = {name: by_frame[name] for name in frame_names if name in by_frame}
        calib_path = scene_dir / "calib" / "camera" / f"{cam_dir.name}.json"
        if not calib_path.is_file():
            notes.append(
                f"camera {cam_dir.name!r} has no calib/camera/{cam_dir.name}.json: its images are left out"
            )
            continue
        if not by_frame:
            notes.append(f"camera {cam_dir.name!r} has no image for any lidar frame: left out")
            continue
        calibration = read_calibration(calib_path)
        width, height = _image_size(next(iter(by_frame.values())))
        cameras[cam_dir.name] = CameraSensor(
            cam_dir.name,
            Pose(np.linalg.inv(calibration.camera_T_lidar.matrix).astype(np.float64)),
            CameraIntrinsics(calibration.intrinsic, width, height),
        )
        images[cam_dir.name] = by_frame
    return cameras, images


def _track(
    track_id: str, boxes: dict[int, LabelledBox], notes: list[str], size_spreads: dict[str, float]
) -> Track:
    types = Counter(b.obj_type for b in boxes.values())
    label = types.most_common(1)[0][0]
    if len(types) > 1:
        notes.append(f"object {track_id} has classes {dict(types)} in different frames: labelled {label!r}")
    sizes = np.stack([b.cuboid.size for b in boxes.values()])
    size = np.median(sizes, axis=0)
    size_spreads[track_id] = float(np.max(sizes.max(axis=0) - sizes.min(axis=0)))
    frames = sorted(boxes)
    labelled = set(frames)
    frame_attributes: dict[int, dict[str, str | int | float | bool | list[float]]] = {
        f: {"obj_attr": attr} for f, b in boxes.items() if (attr := b.obj_attr) is not None
    }
    return Track(
        track_id=track_id,
        label=label,
        size=size,
        # world = ego = lidar (still ego), so the labelled lidar-frame pose is the world pose.
        motion=Keyframed({f: boxes[f].cuboid.pose for f in frames}),
        first_frame=frames[0],
        last_frame=frames[-1],
        provenance=Provenance("imported", SOURCE_FORMAT),
        status=TrackStatus.CONFIRMED,
        absent_frames=frozenset(f for f in range(frames[0], frames[-1] + 1) if f not in labelled),
        frame_attributes=frame_attributes,
    )


def _read_tracks(scene_dir: Path, frame_names: list[str], notes: list[str]) -> list[Track]:
    per_object: dict[str, dict[int, LabelledBox]] = {}
    unlabelled = 0
    for index, name in enumerate(frame_names):
        label_path = scene_dir / "label" / f"{name}.json"
        if not label_path.is_file():
            unlabelled += 1
            continue
        for k, box in enumerate(read_labels(label_path)):
            # Boxes without an id are not tracked by the source: each becomes a one-frame track.
            track_id = box.obj_id or f"{name}:{k}"
            per_object.setdefault(track_id, {})[index] = box
    if unlabelled:
        notes.append(f"{unlabelled} of {len(frame_names)} frames have no label file (taken as no objects)")
    spreads: dict[str, float] = {}
    tracks = [_track(tid, boxes, notes, spreads) for tid, boxes in per_object.items()]
    varying = {tid: spread for tid, spread in spreads.items() if spread > 1e-9}
    if varying:
        widest = max(varying, key=lambda tid: varying[tid])
        notes.append(
            f"{len(varying)} objects have sizes that differ between frames (up to {varying[widest]:.3f} m, "
            f"object {widest}): each track takes the median size"
        )
    return tracks


def _name_list(names: list[str]) -> str:
    if len(names) <= 20:
        return ", ".join(names)
    return f"{', '.join(names[:3])}, ..., {names[-1]} (the lidar file names, sorted)"


def read(path: Path, sequence: str | None = None) -> Scene:
    """Read the SUSTechPOINTS scene at ``path`` (a scene folder, or a data folder and ``sequence``)."""
    scene_dir = _scene_dir(Path(path), sequence)
    lidar_files = _lidar_files(scene_dir)
    names = list(lidar_files)
    notes = [
        "no ego poses: the ego is taken as still (ego frame = the lidar frame, with the lidar's axes)",
        "timestamps: none in the format; frames taken at 10 Hz in frame-name order",
        f"frames 0..{len(names) - 1} are SUSTechPOINTS frames {_name_list(names)}",
    ]
    cameras, images = _read_cameras(scene_dir, names, notes)
    frames = frames_from_poses(still_poses(len(names)), period_us=FRAME_PERIOD_US)
    for frame, name in zip(frames, names, strict=True):
        lidar_path = lidar_files[name]
        frame.lidar = BlobRef(str(lidar_path), LIDAR_ENCODINGS[lidar_path.suffix.lower()])
        frame.images = {
            cam: BlobRef(str(by_frame[name]), IMAGE_ENCODINGS[by_frame[name].suffix.lower()])
            for cam, by_frame in images.items()
            if name in by_frame
        }
    scene = Scene(
        name=scene_dir.name,
        frames=frames,
        lidar=LidarSensor(LIDAR_NAME, Pose.identity()),
        cameras=cameras,
        source_format=SOURCE_FORMAT,
        notes=notes,
    )
    if (scene_dir / "label").is_dir():
        tracks = _read_tracks(scene_dir, names, notes)
        scene.add_layer(AnnotationLayer("ground_truth", tracks, description="SUSTechPOINTS labels"))
    else:
        notes.append("no label/ folder: the scene has no annotation layer")
    return scene


# --- writing ---------------------------------------------------------------------------------------
def _pick_layer(scene: Scene, layer: str | None) -> AnnotationLayer | None:
    if layer is not None:
        return scene.layer(layer)
    if "ground_truth" in scene.layers:
        return scene.layers["ground_truth"]
    if len(scene.layers) <= 1:
        return next(iter(scene.layers.values()), None)
    raise ValueError(f"scene {scene.name} has layers {', '.join(scene.layers)}: say which one to write")


def frame_names(scene: Scene) -> list[str]:
    """File names (without extension) for the frames: the lidar files' names when they are unique."""
    stems = [Path(local_path(f.lidar.url)).stem if f.lidar else "" for f in scene.frames]
    if all(stems) and len(set(stems)) == len(stems):
        return stems
    return [f"{f.index:06d}" for f in scene.frames]


def _frame_labels(scene: Scene, layer: AnnotationLayer, lidar_T_ego: Pose) -> list[list[LabelledBox]]:
    """Each frame's boxes in the lidar frame, derived from the layer's tracks."""
    per_frame: list[list[LabelledBox]] = [[] for _ in scene.frames]
    for track in layer.tracks:
        if track.status == TrackStatus.REJECTED:
            continue
        shapes = scene.ego_shapes(track)
        for frame, ego_cuboid in zip(shapes.frames, shapes.cuboids.to_cuboids(), strict=True):
            attr = track.frame_attributes.get(int(frame), {}).get("obj_attr")
            cuboid: Cuboid = ego_cuboid.transformed(lidar_T_ego)
            per_frame[int(frame)].append(
                LabelledBox(track.track_id, track.label, cuboid, attr if isinstance(attr, str) else None)
            )
    return per_frame


def write(scene: Scene, out: Path, layer: str | None = None) -> list[Path]:
    """Write ``scene`` as a SUSTechPOINTS scene folder at ``out``, all-or-nothing; return the files."""
    if scene.lidar is None or any(f.lidar is None for f in scene.frames):
        raise ValueError(f"scene {scene.name}: SUSTechPOINTS needs a lidar sweep in every frame")
    chosen = _pick_layer(scene, layer)
    names = frame_names(scene)
    ego_T_lidar = scene.lidar.ego_T_sensor
    lidar_T_ego = ego_T_lidar.inverse()
    labels = _frame_labels(scene, chosen, lidar_T_ego) if chosen is not None else None
    relative: list[Path] = []
    with staged_tree(Path(out)) as stage:
        for frame, name in zip(scene.frames, names, strict=True):
            ref = frame.lidar
            assert ref is not None  # checked above
            lidar_rel = Path("lidar") / f"{name}.pcd"
            if ref.encoding == "pcd":
                (stage / lidar_rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(local_path(ref.url), stage / lidar_rel)
            else:
                write_pcd(stage / lidar_rel, read_sweep(ref))
            relative.append(lidar_rel)
            for cam, image in frame.images.items():
                source = local_path(image.url)
                image_rel = Path("camera") / cam / f"{name}{source.suffix.lower()}"
                (stage / image_rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, stage / image_rel)
                relative.append(image_rel)
            if labels is not None:
                label_rel = Path("label") / f"{name}.json"
                write_json(stage / label_rel, [label_json(b) for b in labels[frame.index]])
                relative.append(label_rel)
        for cam, sensor in scene.cameras.items():
            # np.linalg.inv, not Pose.inverse: calibrations are rigid only to a tolerance, and the
            # source's extrinsic must come back as it was.
            camera_T_lidar = Pose(
                np.linalg.inv(sensor.ego_T_sensor.matrix).astype(np.float64) @ ego_T_lidar.matrix
            )
            calib_rel = Path("calib") / "camera" / f"{cam}.json"
            write_json(
                stage / calib_rel,
                calibration_json(CameraCalibration(camera_T_lidar, sensor.intrinsics.matrix)),
            )
            relative.append(calib_rel)
    return [Path(out) / r for r in relative]
