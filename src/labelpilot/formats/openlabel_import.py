"""Build a Scene from a schema-checked OpenLABEL document: frames, ego poses, sensors, one layer."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from labelpilot.formats.errors import FormatError
from labelpilot.formats.openlabel_coordinates import CoordinateSystems, FrameTransforms, frame_transforms
from labelpilot.formats.openlabel_geometry import timestamp_us
from labelpilot.formats.openlabel_names import DEFAULT_FRAME_PERIOD_US, EGO_ALIASES
from labelpilot.formats.openlabel_objects import read_layer
from labelpilot.geometry import Pose
from labelpilot.scenes import BlobRef, CameraIntrinsics, CameraSensor, Frame, LidarSensor, Scene

_ENCODING_BY_SUFFIX = {".pcd": "pcd", ".bin": "kitti-bin", ".feather": "av2-feather", ".npy": "npy"}


class _Document:
    """One document's frames and coordinate systems, with ego poses resolved per frame."""

    def __init__(self, ol: Mapping[str, Any], source: Path) -> None:
        self.ol = ol
        self.source = source
        frames: Mapping[str, Any] = ol.get("frames") or {}
        if not frames:
            raise FormatError(source, "the file has no frames", field="openlabel.frames")
        self.keys = sorted(frames, key=int)  # keys may carry leading zeros ("007")
        self.numbers = [int(key) for key in self.keys]
        repeated = sorted(n for n, count in Counter(self.numbers).items() if count > 1)
        if repeated:
            raise FormatError(source, f"frame numbers {repeated} appear twice", field="openlabel.frames")
        self.properties: list[Mapping[str, Any]] = [
            frames[k].get("frame_properties") or {} for k in self.keys
        ]
        self.systems = CoordinateSystems.from_document(ol.get("coordinate_systems") or {}, source)
        self.transforms: list[FrameTransforms] = [
            frame_transforms(p, source, f"openlabel.frames.{k}.frame_properties")
            for k, p in zip(self.keys, self.properties, strict=True)
        ]
        self.notes: list[str] = []
        if self.numbers != list(range(len(self.numbers))):
            self.notes.append(
                f"file frames {self.numbers[0]}..{self.numbers[-1]} ({len(self.numbers)} frames) "
                f"were numbered 0..{len(self.numbers) - 1}"
            )
        self.ego = self._ego_name()
        self.world_T_ego = [
            self.locate(self.ego, i, "openlabel.coordinate_systems") for i in range(len(self.numbers))
        ]

    def locate(self, system: str | None, index: int, field: str) -> Pose:
        """``world_T_system`` at frame ``index``; no system (or the root) is the world itself."""
        if not system or system == self.systems.root:
            return Pose.identity()
        return self.systems.root_T(system, index, self.transforms[index], field)

    def _ego_name(self) -> str | None:
        systems = self.systems
        candidates = [n for n in EGO_ALIASES if n in systems and n != systems.root]
        candidates += [
            name
            for name, system in (self.ol.get("coordinate_systems") or {}).items()
            if system.get("type") == "local_cs" and systems.parents.get(name) == systems.root
        ]
        if not candidates:
            self.notes.append(
                "no ego coordinate system: ego poses are the identity (the ego is taken as still)"
            )
            return None
        ego = candidates[0]
        moved = sum(systems.has_frame_transform(ego, t) for t in self.transforms)
        if moved == 0:
            self.notes.append(f"no per-frame transforms move {ego!r}: the ego is taken as still")
        elif moved < len(self.transforms):
            self.notes.append(
                f"{len(self.transforms) - moved} frames have no transform for {ego!r}; they use its static pose"
            )
        return ego

    # --- frames -------------------------------------------------------------------------------
    def timestamps(self) -> list[int]:
        fields = [f"openlabel.frames.{k}.frame_properties.timestamp" for k in self.keys]
        raw = [p.get("timestamp") for p in self.properties]
        if all(value is None for value in raw):
            self.notes.append(f"no timestamps: frames are spaced {DEFAULT_FRAME_PERIOD_US // 1000} ms apart")
            return [i * DEFAULT_FRAME_PERIOD_US for i in range(len(raw))]
        stamps: list[int] = []
        for value, field in zip(raw, fields, strict=True):
            if value is None:
                raise FormatError(
                    self.source, "this frame has no timestamp while others have one", field=field
                )
            stamp = timestamp_us(value, self.source, field)
            if stamps and stamp < stamps[-1]:
                raise FormatError(
                    self.source, "timestamps must not decrease from frame to frame", field=field
                )
            stamps.append(stamp)
        return stamps

    def frames(self, lidar_name: str | None) -> list[Frame]:
        streams: Mapping[str, Any] = self.ol.get("streams") or {}
        out: list[Frame] = []
        for index, (stamp, world_T_ego) in enumerate(zip(self.timestamps(), self.world_T_ego, strict=True)):
            frame = Frame(index, stamp, world_T_ego)
            frame_streams: Mapping[str, Any] = self.properties[index].get("streams") or {}
            for name, stream in frame_streams.items():
                uri = stream.get("uri")
                if not uri:
                    continue
                kind = stream.get("type") or streams.get(name, {}).get("type")
                blob = BlobRef(str(uri), _encoding(stream, str(uri)))
                if kind == "lidar" and (lidar_name is None or name == lidar_name):
                    frame.lidar = blob
                elif kind == "camera":
                    frame.images[name] = blob
            out.append(frame)
        return out

    # --- sensors ------------------------------------------------------------------------------
    def _ego_T_sensor(self, name: str) -> Pose:
        if name not in self.systems:
            self.notes.append(f"stream {name!r} has no coordinate system: its pose is the ego origin")
            return Pose.identity()
        field = f"openlabel.coordinate_systems.{name}"
        return self.world_T_ego[0].inverse() @ self.locate(name, 0, field)

    def sensors(self) -> tuple[LidarSensor | None, dict[str, CameraSensor]]:
        lidar: LidarSensor | None = None
        cameras: dict[str, CameraSensor] = {}
        for name, stream in (self.ol.get("streams") or {}).items():
            kind = stream.get("type")
            if kind == "lidar":
                if lidar is None:
                    lidar = LidarSensor(
                        name, self._ego_T_sensor(name), _lidar_range(stream, name, self.source)
                    )
                else:
                    self.notes.append(f"only the first lidar stream is used; {name!r} was not")
            elif kind == "camera":
                intrinsics = _pinhole(stream, name, self.source)
                if intrinsics is None:
                    self.notes.append(
                        f"camera stream {name!r} has no pinhole intrinsics and was not imported"
                    )
                else:
                    cameras[name] = CameraSensor(name, self._ego_T_sensor(name), intrinsics)
        return lidar, cameras


def _lidar_range(stream: Mapping[str, Any], name: str, source: Path) -> float | None:
    """How far the lidar sees, where ``stream_properties.intrinsics_custom.range_m`` says (LabelPilot's
    export writes it); None where nothing says."""
    properties = stream.get("stream_properties")
    custom = properties.get("intrinsics_custom") if isinstance(properties, Mapping) else None
    if not isinstance(custom, Mapping) or "range_m" not in custom:
        return None
    value = custom["range_m"]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise FormatError(
            source,
            f"the lidar range must be a positive number of metres, got {value!r}",
            field=f"openlabel.streams.{name}.stream_properties.intrinsics_custom.range_m",
        )
    return float(value)


def _encoding(stream: Mapping[str, Any], uri: str) -> str:
    properties = stream.get("stream_properties")
    if isinstance(properties, Mapping) and isinstance(properties.get("encoding"), str):
        return str(properties["encoding"])
    suffix = PurePosixPath(uri).suffix.lower()
    return _ENCODING_BY_SUFFIX.get(suffix, suffix.lstrip(".") or "unknown")


def _pinhole(stream: Mapping[str, Any], name: str, source: Path) -> CameraIntrinsics | None:
    """Intrinsics from ``intrinsics_pinhole`` under either naming (``camera_matrix`` or ``_3x4``)."""
    properties = stream.get("stream_properties")
    pinhole = properties.get("intrinsics_pinhole") if isinstance(properties, Mapping) else None
    if not isinstance(pinhole, Mapping):
        return None
    where = f"openlabel.streams.{name}.stream_properties.intrinsics_pinhole"
    key = "camera_matrix_3x4" if "camera_matrix_3x4" in pinhole else "camera_matrix"
    try:
        matrix = np.asarray(pinhole[key], dtype=np.float64)
        matrix = matrix.reshape(3, -1) if matrix.size in (9, 12) else matrix.reshape(0)
        width, height = pinhole["width_px"], pinhole["height_px"]
        coeffs = pinhole.get("distortion_coeffs_1xN", pinhole.get("distortion_coeffs", []))
        distortion = tuple(float(v) for v in coeffs)
    except KeyError as missing:
        raise FormatError(source, f"pinhole intrinsics need {missing.args[0]}", field=where) from None
    except (TypeError, ValueError):
        raise FormatError(
            source, "camera matrix and distortion must be numbers", field=f"{where}.{key}"
        ) from None
    if matrix.size == 0 or not np.all(np.isfinite(matrix)):
        raise FormatError(source, "the camera matrix needs 9 or 12 finite numbers", field=f"{where}.{key}")
    if (
        not (isinstance(width, int) and isinstance(height, int))
        or isinstance(width, bool)
        or width <= 0
        or height <= 0
    ):
        raise FormatError(
            source, f"image size must be positive integers, got {width!r} x {height!r}", field=where
        )
    return CameraIntrinsics(matrix[:, :3].copy(), width, height, distortion)


def scene_from_document(document: Mapping[str, Any], source: Path) -> Scene:
    ol: Mapping[str, Any] = document["openlabel"]
    doc = _Document(ol, source)
    lidar, cameras = doc.sensors()
    frames = doc.frames(lidar.name if lidar is not None else None)
    layer, layer_notes = read_layer(ol, doc.keys, doc.locate, source)
    name = ol["metadata"].get("name")
    try:
        return Scene(
            name=name if isinstance(name, str) and name else source.stem,
            frames=frames,
            lidar=lidar,
            cameras=cameras,
            layers={layer.name: layer},
            source_format="openlabel",
            notes=doc.notes + layer_notes,
        )
    except ValueError as exc:  # pragma: no cover - frames and timestamps are checked above
        raise FormatError(source, str(exc)) from None
