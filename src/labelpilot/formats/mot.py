"""MOTChallenge 2D tracks as scenes: read a gt/results file or sequence folder, write a layer's 2D tracks.

Line layouts and class ids are in ``mot_text``. A file becomes one layer: ``ground_truth`` for gt.txt,
``auto:<file stem>`` for anything else (tracker results, detections), of Track2D with one Box2D per frame;
``conf`` is kept as the box score, as is. Rows with id -1 (detections) become one-box tracks.
Not kept: world x, y, z and visibility (noted on the scene when a file carries them).

A MOT sequence folder may hold ``seqinfo.ini`` (frame rate, length, image size) and ``img1/``; both are
used when present. The camera's intrinsics are unknown to the format: a placeholder (focal length =
image width, principal point at the image centre, looking along the ego x axis) is used and noted.

``write`` takes a layer's 2D tracks; a layer with only 3D tracks is projected into a camera first
(each derived cuboid's image box, clipped to the image).
"""

from __future__ import annotations

import configparser
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labelpilot.formats.errors import FormatError
from labelpilot.formats.mot_text import (
    DEFAULT_LABEL,
    DETECTION_ATTRIBUTE,
    MotRow,
    class_label,
    mot_lines,
    parse_file,
)
from labelpilot.formats.staging import staged_file
from labelpilot.geometry import Pose
from labelpilot.geometry.projection import project_cuboid_bbox
from labelpilot.scenes import (
    BlobRef,
    CameraIntrinsics,
    CameraSensor,
    Scene,
    frames_from_poses,
    still_poses,
)
from labelpilot.tracks import AnnotationLayer, Box2D, Provenance, Track2D, TrackStatus

SOURCE_FORMAT = "mot"
CAMERA_NAME = "camera"
DEFAULT_PERIOD_US = 100_000

# A camera looking along the ego x axis: OpenCV x right = ego -y, y down = ego -z, z forward = ego x.
PLACEHOLDER_MOUNT = Pose.from_rotation_translation(
    np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]), [0.0, 0.0, 0.0]
)


@dataclass(frozen=True)
class SequenceInfo:
    name: str | None = None
    frame_rate: float | None = None
    length: int | None = None
    width: int | None = None
    height: int | None = None
    image_dir: str = "img1"
    image_ext: str = ".jpg"


def _read_seqinfo(seq_dir: Path) -> SequenceInfo:
    ini = seq_dir / "seqinfo.ini"
    if not ini.is_file():
        return SequenceInfo()
    parser = configparser.ConfigParser()
    try:
        parser.read(ini, encoding="utf-8")
        section = parser["Sequence"]
        rate, length = section.get("frameRate"), section.get("seqLength")
        width, height = section.get("imWidth"), section.get("imHeight")
        return SequenceInfo(
            name=section.get("name"),
            frame_rate=float(rate) if rate else None,
            length=int(length) if length else None,
            width=int(width) if width else None,
            height=int(height) if height else None,
            image_dir=section.get("imDir", "img1"),
            image_ext=section.get("imExt", ".jpg"),
        )
    except (configparser.Error, KeyError, ValueError) as err:
        raise FormatError(ini, f"unreadable seqinfo.ini: {err}", field="Sequence") from None


# --- reading -----------------------------------------------------------------------------------------
def _locate(path: Path, sequence: str | None) -> tuple[Path, Path]:
    """(the track file, its sequence folder) for a file, a sequence folder, or a root and ``sequence``."""
    if path.is_file():
        seq_dir = path.parent.parent if path.parent.name == "gt" else path.parent
        return path, seq_dir
    seq_dir = path / sequence if sequence is not None else path
    for candidate in (seq_dir / "gt" / "gt.txt", seq_dir / "gt.txt"):
        if candidate.is_file():
            return candidate, seq_dir
    found = sorted(p.name for p in seq_dir.iterdir() if p.is_dir()) if seq_dir.is_dir() else []
    hint = f"; sequences here: {', '.join(found)}" if found and sequence is None else ""
    raise FormatError(seq_dir, f"no gt/gt.txt or gt.txt MOTChallenge file{hint}")


def _tracks(rows: list[MotRow], layer_source: str, nine_values: bool, notes: list[str]) -> list[Track2D]:
    grouped: dict[str, list[MotRow]] = {}
    for r in rows:
        key = f"det{r.line}" if r.track_id == -1 else str(r.track_id)
        grouped.setdefault(key, []).append(r)
    tracks: list[Track2D] = []
    for track_id, members in grouped.items():
        label = DEFAULT_LABEL
        if nine_values:
            classes = Counter(int(r.extra[0]) for r in members)
            class_id = classes.most_common(1)[0][0]
            label = class_label(class_id)
            if len(classes) > 1:
                notes.append(f"track {track_id} has classes {dict(classes)}: labelled {label!r}")
        attributes: dict[str, str | int | float | bool] = (
            {DETECTION_ATTRIBUTE: True} if members[0].track_id == -1 else {}
        )
        tracks.append(
            Track2D(
                track_id=track_id,
                label=label,
                camera=CAMERA_NAME,
                boxes={r.frame - 1: r.box for r in members},
                provenance=Provenance(
                    "imported" if layer_source == "gt" else "candidate", f"mot:{layer_source}"
                ),
                status=TrackStatus.CONFIRMED if layer_source == "gt" else TrackStatus.CANDIDATE,
                attributes=attributes,
            )
        )
    return tracks


def _camera(info: SequenceInfo, rows: list[MotRow], notes: list[str]) -> CameraSensor:
    if info.width and info.height:
        width, height = info.width, info.height
    else:
        width = max([math.ceil(r.box.left + r.box.width) for r in rows] + [1])
        height = max([math.ceil(r.box.top + r.box.height) for r in rows] + [1])
        notes.append(f"image size unknown: taken as {width} x {height}, the extent of the boxes")
    notes.append("camera intrinsics unknown: placeholder focal length = image width, centred principal point")
    k = np.array([[width, 0.0, width / 2.0], [0.0, width, height / 2.0], [0.0, 0.0, 1.0]])
    return CameraSensor(CAMERA_NAME, PLACEHOLDER_MOUNT, CameraIntrinsics(k, width, height))


def read(path: Path, sequence: str | None = None) -> Scene:
    """Read a MOTChallenge file (gt.txt, a results file) or a sequence folder's ground truth."""
    track_file, seq_dir = _locate(Path(path), sequence)
    rows = parse_file(track_file)
    info = _read_seqinfo(seq_dir)
    nine_values = bool(rows) and len(rows[0].extra) == 2
    notes = ["no ego poses: the camera is taken as still"]
    if not nine_values and any(v != -1 for r in rows for v in r.extra):
        notes.append("world x, y, z columns are not kept")
    if nine_values:
        notes.append("visibility column is not kept")
    count = max([r.frame for r in rows] + [info.length or 0])
    period_us = DEFAULT_PERIOD_US
    if info.frame_rate:
        period_us = round(1e6 / info.frame_rate)
    else:
        notes.append("frame rate unknown: 10 Hz assumed")
    frames = frames_from_poses(still_poses(count), period_us=period_us)
    image_dir = seq_dir / info.image_dir
    for frame in frames:
        image = image_dir / f"{frame.index + 1:06d}{info.image_ext}"
        if image.is_file():
            frame.images[CAMERA_NAME] = BlobRef(str(image), info.image_ext.lstrip(".").lower())
    source = track_file.stem
    layer_name = "ground_truth" if source == "gt" else f"auto:{source}"
    scene = Scene(
        name=info.name or seq_dir.name,
        frames=frames,
        cameras={CAMERA_NAME: _camera(info, rows, notes)},
        source_format=SOURCE_FORMAT,
        notes=notes,
    )
    tracks = _tracks(rows, source, nine_values, notes)
    scene.add_layer(
        AnnotationLayer(layer_name, tracks_2d=tracks, description=f"MOTChallenge {track_file.name}")
    )
    return scene


# --- writing -----------------------------------------------------------------------------------------
def _target(scene: Scene, out: Path, layer_name: str) -> Path:
    if out.suffix.lower() == ".txt":
        return out
    return out / "gt" / "gt.txt" if layer_name == "ground_truth" else out / f"{scene.name}.txt"


def _default_camera(scene: Scene) -> str:
    if len(scene.cameras) == 1:
        return next(iter(scene.cameras))
    if "front" in scene.cameras:
        return "front"
    raise ValueError(
        f"scene {scene.name}: say which camera to project into ({', '.join(scene.cameras) or 'none'})"
    )


def projected_tracks(scene: Scene, layer: AnnotationLayer, camera: str) -> list[Track2D]:
    """The layer's 3D tracks as 2D tracks in ``camera``: per frame, the image box of the derived cuboid."""
    sensor = scene.cameras[camera]
    camera_T_ego = sensor.ego_T_sensor.inverse()
    image_size = (sensor.intrinsics.width, sensor.intrinsics.height)
    out: list[Track2D] = []
    for track in layer.tracks:
        shapes = scene.ego_shapes(track)
        boxes: dict[int, Box2D] = {}
        for frame, cuboid in zip(shapes.frames, shapes.cuboids.to_cuboids(), strict=True):
            corners = project_cuboid_bbox(
                cuboid.transformed(camera_T_ego), sensor.intrinsics.matrix, image_size=image_size
            )
            if corners is not None:
                x1, y1, x2, y2 = corners
                boxes[int(frame)] = Box2D(x1, y1, x2 - x1, y2 - y1, track.score)
        if boxes:
            out.append(
                Track2D(
                    track.track_id,
                    track.label,
                    camera,
                    boxes,
                    track.provenance,
                    track.status,
                    dict(track.attributes),
                )
            )
    return out


def write(scene: Scene, out: Path, layer: str | None = None, *, camera: str | None = None) -> list[Path]:
    """Write a layer's 2D tracks as one MOTChallenge file, all-or-nothing; return it.

    ``out`` is the file (``*.txt``) or a folder: ground truth goes to ``gt/gt.txt`` in it, other layers to
    ``<scene name>.txt`` (the MOTChallenge results layout). A layer without 2D tracks has its 3D tracks
    projected into ``camera`` (default: the scene's only camera, or ``front``).
    """
    if layer is None:
        layer = "ground_truth" if "ground_truth" in scene.layers else None
        if layer is None and len(scene.layers) == 1:
            layer = next(iter(scene.layers))
        if layer is None:
            raise ValueError(
                f"scene {scene.name}: say which layer to write ({', '.join(scene.layers) or 'none'})"
            )
    chosen = scene.layer(layer)
    tracks = chosen.tracks_2d
    if not tracks and chosen.tracks:
        tracks = projected_tracks(scene, chosen, camera or _default_camera(scene))
    tracks = [t for t in tracks if t.status != TrackStatus.REJECTED]
    cameras = sorted({t.camera for t in tracks})
    if len(cameras) > 1:
        raise ValueError(f"layer {layer!r} has 2D tracks in cameras {cameras}; a MOT file holds one camera")
    lines = mot_lines(tracks)
    target = _target(scene, Path(out), layer)
    with staged_file(target) as tmp:
        tmp.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return [target]
