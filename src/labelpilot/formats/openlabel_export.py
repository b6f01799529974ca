"""Build an OpenLABEL 1.0.0 document from a Scene and one of its annotation layers."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np

from labelpilot.formats.openlabel_geometry import cuboid_val, frame_intervals, timestamp_text, transform_data
from labelpilot.formats.openlabel_names import (
    ANNOTATOR,
    BBOX_2D,
    EGO,
    EGO_TRANSFORM,
    LAYER_KEY,
    ODOM,
    PROVENANCE,
    PROVENANCE_SOURCE,
    RESERVED_ATTRIBUTES,
    SCHEMA_VERSION,
    SCORE,
    SHAPE,
    SHAPE_2D,
    STATIONARY,
    STATUS,
)
from labelpilot.scenes import CameraSensor, Scene
from labelpilot.tracks import AnnotationLayer, Track, Track2D

Json = dict[str, Any]
DataLists = dict[str, list[Json]]
"""An ``object_data`` body: element data type ("num", "vec", ...) -> list of entries."""


def choose_layer(scene: Scene, layer: str | None) -> AnnotationLayer | None:
    """The named layer; by default ``ground_truth``, else ``work``, else the only one."""
    if layer is not None:
        if layer not in scene.layers:
            known = ", ".join(scene.layers) or "none"
            raise ValueError(f"scene {scene.name} has no layer {layer!r} (layers: {known})")
        return scene.layers[layer]
    for preferred in ("ground_truth", "work"):
        if preferred in scene.layers:
            return scene.layers[preferred]
    if len(scene.layers) <= 1:
        return next(iter(scene.layers.values()), None)
    raise ValueError(
        f"scene {scene.name} has layers {', '.join(scene.layers)}; name the one to export with layer="
    )


def _typed_entry(name: str, value: Any, where: str) -> tuple[str, Json]:
    """(element data type, entry) for one attribute value; JSON keeps 2 and 2.0 apart, so ints stay ints."""
    if isinstance(value, bool | np.bool_):
        return "boolean", {"name": name, "val": bool(value)}
    if isinstance(value, str):
        return "text", {"name": name, "val": value}
    if isinstance(value, Integral):
        return "num", {"name": name, "val": int(value)}
    if isinstance(value, Real):
        if not math.isfinite(float(value)):
            raise ValueError(f"{where}: attribute {name!r} is {value}, which JSON cannot hold")
        return "num", {"name": name, "val": float(value)}
    if isinstance(value, list | tuple | np.ndarray):
        numbers = [float(v) for v in value]
        if not all(math.isfinite(v) for v in numbers):
            raise ValueError(f"{where}: attribute {name!r} holds NaN or infinity, which JSON cannot hold")
        return "vec", {"name": name, "val": numbers}
    raise ValueError(f"{where}: attribute {name!r} has a value of type {type(value).__name__}")


def _add(data: DataLists, kind: str, entry: Json) -> None:
    data.setdefault(kind, []).append(entry)


def _bbox_camera(scene: Scene) -> str | None:
    """The camera a track's 2D box belongs to, when that is unambiguous: the scene's only camera,
    or the only camera that has images."""
    if len(scene.cameras) == 1:
        return next(iter(scene.cameras))
    with_images = {name for frame in scene.frames for name in frame.images}
    return with_images.pop() if len(with_images) == 1 else None


def _frame_entry(name: str, value: Any, camera: str | None, where: str) -> tuple[str, Json]:
    """A per-frame attribute; a 2D box [x1, y1, x2, y2] becomes a bbox [cx, cy, w, h] on the camera."""
    if name == BBOX_2D and camera is not None and isinstance(value, list | tuple) and len(value) == 4:
        x1, y1, x2, y2 = (float(v) for v in value)
        if all(math.isfinite(v) for v in (x1, y1, x2, y2)) and x2 >= x1 and y2 >= y1:
            centre_size = [(x1 + x2) / 2.0, (y1 + y2) / 2.0, x2 - x1, y2 - y1]
            return "bbox", {"name": name, "val": centre_size, "coordinate_system": camera}
    return _typed_entry(name, value, where)


def _static_data(track: Track | Track2D) -> DataLists:
    where = f"track {track.track_id}"
    data: DataLists = {}
    for name, value in track.attributes.items():
        if name in RESERVED_ATTRIBUTES:
            raise ValueError(f"{where}: attribute name {name!r} is reserved for the track's own {name}")
        kind, entry = _typed_entry(name, value, where)
        _add(data, kind, entry)
    _add(data, "text", {"name": STATUS, "val": str(track.status)})
    _add(data, "text", {"name": PROVENANCE, "val": track.provenance.kind})
    if track.provenance.source is not None:
        _add(data, "text", {"name": PROVENANCE_SOURCE, "val": track.provenance.source})
    if isinstance(track, Track):
        _add(data, "boolean", {"name": STATIONARY, "val": track.is_stationary})
        if track.score is not None:
            kind, entry = _typed_entry(SCORE, track.score, where)
            _add(data, kind, entry)
    return data


def _sensors(scene: Scene) -> tuple[Json, Json]:
    """(streams, coordinate_systems) for the lidar and cameras, each sensor a child of ``ego``."""
    streams: Json = {}
    systems: Json = {
        ODOM: {"type": "scene_cs", "parent": "", "children": [EGO]},
        EGO: {"type": "local_cs", "parent": ODOM, "children": []},
    }
    if scene.frames:
        # the static pose is frame 0's; every frame states its own in frame_properties.transforms
        systems[EGO]["pose_wrt_parent"] = transform_data(scene.frames[0].world_T_ego)
    sensors: list[tuple[str, Any, Json]] = []
    if scene.lidar is not None:
        lidar: Json = {"type": "lidar"}
        if scene.lidar.range_m is not None:
            # How far it sees is an intrinsic of the sensor that the standard has no field for.
            lidar["stream_properties"] = {"intrinsics_custom": {"range_m": scene.lidar.range_m}}
        sensors.append((scene.lidar.name, scene.lidar.ego_T_sensor, lidar))
    for camera in scene.cameras.values():
        stream = {"type": "camera", "stream_properties": {"intrinsics_pinhole": _pinhole(camera)}}
        sensors.append((camera.name, camera.ego_T_sensor, stream))
    for name, ego_T_sensor, stream in sensors:
        if name in streams or name in systems:
            raise ValueError(
                f"scene {scene.name}: sensor name {name!r} is used twice or clashes with odom/ego"
            )
        streams[name] = stream
        systems[name] = {"type": "sensor_cs", "parent": EGO, "pose_wrt_parent": transform_data(ego_T_sensor)}
        systems[EGO]["children"].append(name)
    return streams, systems


def _pinhole(camera: CameraSensor) -> Json:
    """Pinhole intrinsics under both names in use: the schema's ``camera_matrix``/``distortion_coeffs``
    and the ``camera_matrix_3x4``/``distortion_coeffs_1xN`` of the OpenLABEL examples and public datasets."""
    intrinsics = camera.intrinsics
    matrix_3x4 = np.hstack([intrinsics.matrix, np.zeros((3, 1))]).reshape(-1)
    out: Json = {
        "camera_matrix": [float(v) for v in matrix_3x4],
        "camera_matrix_3x4": [float(v) for v in matrix_3x4],
        "width_px": int(intrinsics.width),
        "height_px": int(intrinsics.height),
    }
    coeffs = [float(v) for v in intrinsics.distortion]
    if coeffs:
        out["distortion_coeffs_1xN"] = coeffs
        if len(coeffs) <= 14:
            # the schema wants 5..14 values; trailing zeros add no distortion
            out["distortion_coeffs"] = coeffs + [0.0] * (5 - len(coeffs))
    return out


def _frames(scene: Scene, streams: Json) -> list[Json]:
    lidar_name = scene.lidar.name if scene.lidar is not None else "lidar"
    frames: list[Json] = []
    for frame in scene.frames:
        transform = {
            "src": ODOM,
            "dst": EGO,
            "transform_src_to_dst": transform_data(frame.world_T_ego.inverse()),
        }
        properties: Json = {
            "timestamp": timestamp_text(frame.timestamp_us),
            "transforms": {EGO_TRANSFORM: transform},
        }
        blobs = ([(lidar_name, "lidar", frame.lidar)] if frame.lidar is not None else []) + [
            (camera, "camera", blob) for camera, blob in frame.images.items()
        ]
        if blobs:
            properties["streams"] = {}
            for name, kind, blob in blobs:
                streams.setdefault(name, {"type": kind})
                properties["streams"][name] = {
                    "uri": blob.url,
                    "stream_properties": {"encoding": blob.encoding},
                }
        frames.append({"frame_properties": properties})
    return frames


def _add_track(scene: Scene, track: Track, uid: str, frames: list[Json], camera: str | None) -> Json:
    """The object for one track; its per-frame cuboids and attributes go into ``frames``."""
    shapes = scene.ego_shapes(track)
    present: set[int] = set()

    def frame_data(frame: int) -> DataLists:
        present.add(frame)
        objects = frames[frame].setdefault("objects", {})
        entry: DataLists = objects.setdefault(uid, {}).setdefault("object_data", {})
        return entry

    cuboids = shapes.cuboids
    for row, frame in enumerate(shapes.frames.tolist()):
        val = cuboid_val(cuboids.centers[row], cuboids.quats_xyzw[row], cuboids.sizes[row])
        _add(frame_data(frame), "cuboid", {"name": SHAPE, "val": val, "coordinate_system": EGO})
    for frame, attributes in sorted(track.frame_attributes.items()):
        if not 0 <= frame < len(frames):
            raise ValueError(f"track {track.track_id} has attributes at frame {frame}, outside the scene")
        for name, value in attributes.items():
            kind, entry = _frame_entry(name, value, camera, f"track {track.track_id}, frame {frame}")
            _add(frame_data(frame), kind, entry)
    return {
        "name": track.track_id,
        "type": track.label,
        "frame_intervals": frame_intervals(present),
        "object_data": _static_data(track),
    }


def _add_track_2d(track: Track2D, uid: str, frames: list[Json], streams: Json, systems: Json) -> Json:
    """The object for a camera-only track: one bbox [cx, cy, w, h] per frame on its camera."""
    streams.setdefault(track.camera, {"type": "camera"})
    if track.camera not in systems:
        # the boxes name their camera's coordinate system; its pose is unknown, so none is stated
        systems[track.camera] = {"type": "sensor_cs", "parent": EGO}
        systems[EGO]["children"].append(track.camera)
    for frame, box in sorted(track.boxes.items()):
        if not 0 <= frame < len(frames):
            raise ValueError(f"2D track {track.track_id} has a box at frame {frame}, outside the scene")
        entry: Json = {
            "name": SHAPE_2D,
            "val": [box.left + box.width / 2.0, box.top + box.height / 2.0, box.width, box.height],
            "coordinate_system": track.camera,
        }
        if box.score is not None:
            entry["attributes"] = {"num": [_typed_entry(SCORE, box.score, f"2D track {track.track_id}")[1]]}
        objects = frames[frame].setdefault("objects", {})
        _add(objects.setdefault(uid, {}).setdefault("object_data", {}), "bbox", entry)
    return {
        "name": track.track_id,
        "type": track.label,
        "frame_intervals": frame_intervals(track.boxes),
        "object_data": _static_data(track),
    }


def build_document(scene: Scene, layer: AnnotationLayer | None) -> Json:
    """The whole ``{"openlabel": ...}`` document."""
    metadata: Json = {"schema_version": SCHEMA_VERSION, "name": scene.name, "annotator": ANNOTATOR}
    if layer is not None:
        metadata[LAYER_KEY] = layer.name
        if layer.description:
            metadata["comment"] = layer.description
    streams, systems = _sensors(scene)
    frames = _frames(scene, streams)
    objects: Json = {}
    tracks = layer.tracks if layer is not None else []
    camera = _bbox_camera(scene)
    for number, track in enumerate(tracks):
        objects[str(number)] = _add_track(scene, track, str(number), frames, camera)
    for number, track_2d in enumerate(layer.tracks_2d if layer is not None else [], start=len(tracks)):
        objects[str(number)] = _add_track_2d(track_2d, str(number), frames, streams, systems)
    body: Json = {"metadata": metadata, "coordinate_systems": systems}
    if streams:
        body["streams"] = streams
    body["frames"] = {str(i): frame for i, frame in enumerate(frames)}
    if objects:
        body["objects"] = objects
    return {"openlabel": body}
