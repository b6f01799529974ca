"""Import a scene from any supported format into a project, as one transaction.

What makes a scene exist is its ``scenes`` row. Everything runs in the caller's session: sensors,
frames, layers, tracks and keyframes are written with the scene row, so when the import fails the
caller's rollback takes them all away. Payloads (sweeps, images) are blobs keyed by the scene id
(``scenes/<id>/...``); they are written before the rows are committed, and removed again when the
import fails. A process killed mid-import (SIGKILL, power loss) cannot clean up: it leaves orphan
blobs under ``scenes/<id>/`` and no rows. Those orphans are harmless (nothing refers to them) and,
where the database hands the same id out again (SQLite reuses the ids of rolled-back rows), the next
import under that id clears the prefix before writing.

On SQLite the import holds the database's write lock from the scene row's insert to the caller's
commit, so other writers wait (busy timeout) while sweeps are copied.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session

from labelpilot.formats import FormatError, read_scene
from labelpilot.formats.sweeps import local_path, read_sweep
from labelpilot.geometry.pose_json import pose_to_json
from labelpilot.scenes import BlobRef, Frame, Scene
from labelpilot.services.actors import Actor, require_role
from labelpilot.services.codec import track_to_rows
from labelpilot.services.errors import InvalidError
from labelpilot.services.events import record_event
from labelpilot.services.scene_access import MANAGERS, image_key, lidar_key, scene_prefix
from labelpilot.services.track2d_codec import track2d_to_row
from labelpilot.store.blobs import BlobStore
from labelpilot.store.tables import FrameRow, KeyframeRow, LayerRow, SceneRow, SensorRow, Track2DRow, TrackRow
from labelpilot.tracks import AnnotationLayer

ProgressCallback = Callable[[int, int], None]
"""Called with (frames done, frames in total) as payloads are stored."""

WORK_LAYER = "work"
MAX_SCENE_NAME = 200
_ROWS_PER_STATEMENT = 100
"""Rows per multi-row INSERT: measured fastest on PostgreSQL (psycopg parses huge statements slowly)."""
_TRACK_COLUMNS = [attr.key for attr in inspect(TrackRow).column_attrs if attr.key != "id"]


def _read(format_name: str, path: Path, sequence: str | None) -> Scene:
    try:
        return read_scene(format_name, path, sequence)
    except FormatError as err:
        raise InvalidError(str(err), field=err.path) from err
    except ValueError as err:  # an unknown format name
        raise InvalidError(str(err), field="format") from err
    except OSError as err:
        raise InvalidError(f"{path}: cannot read: {err}", field=str(path)) from err


def _scene_name(name: str | None, scene: Scene) -> str:
    chosen = (name if name is not None else scene.name).strip()
    if not chosen or len(chosen) > MAX_SCENE_NAME:
        raise InvalidError(f"a scene name needs 1 to {MAX_SCENE_NAME} characters", field="name")
    return chosen


def _max_length(column: Any) -> int:
    length = getattr(column.type, "length", None)
    assert isinstance(length, int)
    return length


def _check_names(scene: Scene) -> None:
    """Names the data brings must fit their columns; say which one does not (never a database error)."""
    checks: list[tuple[str, str, int]] = []
    sensor_names = ([scene.lidar.name] if scene.lidar else []) + list(scene.cameras)
    checks += [("sensor name", n, _max_length(SensorRow.__table__.c.name)) for n in sensor_names]
    for layer in scene.layers.values():
        checks.append(("layer name", layer.name, _max_length(LayerRow.__table__.c.name)))
        for track in layer.tracks:
            checks.append(
                (
                    f"track id in layer {layer.name[:40]!r}",
                    track.track_id,
                    _max_length(TrackRow.__table__.c.key),
                )
            )
            checks.append(
                (
                    f"class of track {track.track_id[:40]!r}",
                    track.label,
                    _max_length(TrackRow.__table__.c.label),
                )
            )
        for track2d in layer.tracks_2d:
            checks.append(
                (
                    f"2D track id in layer {layer.name[:40]!r}",
                    track2d.track_id,
                    _max_length(Track2DRow.__table__.c.key),
                )
            )
            checks.append(
                (
                    f"class of 2D track {track2d.track_id[:40]!r}",
                    track2d.label,
                    _max_length(Track2DRow.__table__.c.label),
                )
            )
    for what, value, limit in checks:
        if not value or len(value) > limit or "\x00" in value:
            raise InvalidError(
                f"the {what} {value[:200]!r} must have 1 to {limit} characters and no NUL", field=what
            )


def _sensor_rows(scene_id: int, scene: Scene) -> list[SensorRow]:
    rows: list[SensorRow] = []
    if scene.lidar is not None:
        rows.append(
            SensorRow(
                scene_id=scene_id,
                name=scene.lidar.name,
                kind="lidar",
                ego_T_sensor=pose_to_json(scene.lidar.ego_T_sensor),
                intrinsics=None,
                range_m=scene.lidar.range_m,
            )
        )
    for name, camera in scene.cameras.items():
        k = camera.intrinsics
        intrinsics = {
            "matrix": [[float(v) for v in row] for row in k.matrix],
            "width": int(k.width),
            "height": int(k.height),
            "distortion": [float(v) for v in k.distortion],
        }
        rows.append(
            SensorRow(
                scene_id=scene_id,
                name=name,
                kind="camera",
                ego_T_sensor=pose_to_json(camera.ego_T_sensor),
                intrinsics=intrinsics,
            )
        )
    names = [r.name for r in rows]
    if len(set(names)) != len(names):
        raise InvalidError(f"sensor names must be unique within a scene, got {', '.join(names)}")
    return rows


def _payload_error(ref: BlobRef, err: Exception) -> InvalidError:
    if isinstance(err, FormatError):
        return InvalidError(str(err), field=err.path)
    return InvalidError(f"{ref.url}: cannot read: {err}", field=ref.url)


def _store_sweep(blobs: BlobStore, scene_id: int, frame: Frame, ref: BlobRef) -> tuple[str, int]:
    try:
        points = read_sweep(ref)
    except (FormatError, OSError, ValueError) as err:
        raise _payload_error(ref, err) from err
    key = lidar_key(scene_id, frame.index)
    blobs.put(key, np.ascontiguousarray(points, dtype="<f4").tobytes())
    return key, len(points)


def _store_image(blobs: BlobStore, scene_id: int, frame: Frame, camera: str, ref: BlobRef) -> dict[str, str]:
    try:
        path = local_path(ref.url)
        data = path.read_bytes()
    except (OSError, ValueError) as err:
        raise _payload_error(ref, err) from err
    extension = path.suffix.lower().lstrip(".")
    if not extension.isalnum():
        extension = "bin"
    media_type = mimetypes.guess_type(f"image.{extension}")[0] or "application/octet-stream"
    key = image_key(scene_id, camera, frame.index, extension)
    blobs.put(key, data)
    return {"key": key, "media_type": media_type, "encoding": ref.encoding}


def _store_frames(
    blobs: BlobStore, scene_id: int, frames: Sequence[Frame], progress: ProgressCallback | None
) -> list[dict[str, Any]]:
    """Copy each frame's payloads into the blob store; the frame rows' values, in frame order."""
    values: list[dict[str, Any]] = []
    for frame in frames:
        lidar_blob, lidar_points = (
            _store_sweep(blobs, scene_id, frame, frame.lidar) if frame.lidar is not None else (None, None)
        )
        images = {
            camera: _store_image(blobs, scene_id, frame, camera, ref) for camera, ref in frame.images.items()
        }
        values.append(
            {
                "scene_id": scene_id,
                "index": frame.index,
                "timestamp_us": int(frame.timestamp_us),
                "world_T_ego": pose_to_json(frame.world_T_ego),
                "lidar_blob": lidar_blob,
                "lidar_points": lidar_points,
                "images": images,
            }
        )
        if progress is not None:
            progress(frame.index + 1, len(frames))
    return values


def _insert_layer(session: Session, layer_row: LayerRow, layer: AnnotationLayer) -> None:
    """Bulk-insert a layer's tracks and their keyframes (a few statements, not one per row)."""
    pairs = [track_to_rows(track, layer_row.id) for track in layer.tracks]
    if not pairs:
        return
    track_values = [{key: getattr(row, key) for key in _TRACK_COLUMNS} for row, _ in pairs]
    track_ids = session.scalars(
        insert(TrackRow)
        .returning(TrackRow.id, sort_by_parameter_order=True)
        .execution_options(insertmanyvalues_page_size=_ROWS_PER_STATEMENT),
        track_values,
    ).all()
    keyframe_values = [
        {"track_id": track_id, "frame": keyframe.frame, "world_pose": keyframe.world_pose}
        for track_id, (_, keyframes) in zip(track_ids, pairs, strict=True)
        for keyframe in keyframes
    ]
    if keyframe_values:
        session.execute(
            insert(KeyframeRow).execution_options(insertmanyvalues_page_size=_ROWS_PER_STATEMENT),
            keyframe_values,
        )


def _insert_layers(session: Session, scene_id: int, scene: Scene) -> dict[str, int]:
    """Layer rows (plus an empty ``work`` layer when the scene has none) with their tracks."""
    layers = list(scene.layers.values())
    if WORK_LAYER not in scene.layers:
        layers.append(AnnotationLayer(WORK_LAYER, description="what people edit and deliver"))
    rows = [LayerRow(scene_id=scene_id, name=layer.name, description=layer.description) for layer in layers]
    session.add_all(rows)
    session.flush()
    counts: dict[str, int] = {}
    for row, layer in zip(rows, layers, strict=True):
        _insert_layer(session, row, layer)
        session.add_all([track2d_to_row(track, row.id) for track in layer.tracks_2d])
        counts[layer.name] = len(layer.tracks) + len(layer.tracks_2d)
    return counts


def import_scene(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    project_id: int,
    format_name: str,
    path: Path | str,
    sequence: str | None = None,
    name: str | None = None,
    progress: ProgressCallback | None = None,
) -> SceneRow:
    """Read the scene at ``path`` in ``format_name`` and store it in the project (managers, admins).

    Bad input raises InvalidError whose message names the file (and line, where the format knows it)
    and whose ``field`` is the file's path. The caller must end its transaction with a rollback when
    this raises (``db_factory.begin()`` does).
    """
    require_role(session, actor, project_id, MANAGERS)
    scene = _read(format_name, Path(path), sequence)
    _check_names(scene)
    scene_row = SceneRow(
        project_id=project_id,
        name=_scene_name(name, scene),
        source_format=format_name,
        notes=list(scene.notes),
        frame_count=len(scene.frames),
    )
    session.add(scene_row)
    session.flush()
    prefix = scene_prefix(scene_row.id)
    # The id is new to this database, so whatever lies under its prefix is an orphan of a killed import.
    blobs.delete_prefix(prefix)
    try:
        session.add_all(_sensor_rows(scene_row.id, scene))
        frame_values = _store_frames(blobs, scene_row.id, scene.frames, progress)
        if frame_values:
            session.execute(insert(FrameRow), frame_values)
        counts = _insert_layers(session, scene_row.id, scene)
        record_event(
            session,
            actor,
            "scene_imported",
            project_id=project_id,
            scene_id=scene_row.id,
            payload={
                "format": format_name,
                "path": str(path),
                "sequence": sequence,
                "name": scene_row.name,
                "frames": len(frame_values),
                "sweeps": sum(1 for v in frame_values if v["lidar_blob"] is not None),
                "images": sum(len(v["images"]) for v in frame_values),
                "tracks_by_layer": counts,
            },
        )
    except BaseException:
        # Also on KeyboardInterrupt: blobs are outside the transaction and must go explicitly.
        blobs.delete_prefix(prefix)
        raise
    return scene_row
