"""Rows back to the domain Scene: frames, sensors and layers with their (not deleted) tracks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.geometry.pose_json import pose_from_json
from labelpilot.scenes import BlobRef, CameraIntrinsics, CameraSensor, Frame, LidarSensor, Scene
from labelpilot.services.actors import Actor
from labelpilot.services.codec import track_from_rows
from labelpilot.services.errors import NotFoundError
from labelpilot.services.pose_layers import active_poses_json
from labelpilot.services.scene_access import visible_scene
from labelpilot.services.track2d_codec import track2d_from_row
from labelpilot.store.blobs import BlobStore
from labelpilot.store.tables import FrameRow, KeyframeRow, LayerRow, SceneRow, SensorRow, Track2DRow, TrackRow
from labelpilot.tracks import AnnotationLayer, Track

SWEEP_BLOB_ENCODING = "f32-blob"
"""A sweep stored by LabelPilot: little-endian float32 x, y, z, intensity rows (the KITTI .bin layout)."""

TrackIds = Literal["row", "key"]
_IN_CHUNK = 5000


def _frames(session: Session, scene_id: int) -> list[Frame]:
    rows = list(
        session.scalars(select(FrameRow).where(FrameRow.scene_id == scene_id).order_by(FrameRow.index))
    )
    # The active pose layer's poses where one is active (a correction), else the imported ones.
    poses = active_poses_json(session, scene_id) or [row.world_T_ego for row in rows]
    return [
        Frame(
            index=row.index,
            timestamp_us=row.timestamp_us,
            world_T_ego=pose_from_json(poses[row.index]),
            lidar=BlobRef(row.lidar_blob, SWEEP_BLOB_ENCODING) if row.lidar_blob else None,
            images={
                camera: BlobRef(image["key"], image.get("encoding") or image["media_type"])
                for camera, image in (row.images or {}).items()
            },
        )
        for row in rows
    ]


def _sensors(session: Session, scene_id: int) -> tuple[LidarSensor | None, dict[str, CameraSensor]]:
    lidar: LidarSensor | None = None
    cameras: dict[str, CameraSensor] = {}
    for row in session.scalars(
        select(SensorRow).where(SensorRow.scene_id == scene_id).order_by(SensorRow.id)
    ):
        pose = pose_from_json(row.ego_T_sensor)
        if row.kind == "lidar":
            lidar = LidarSensor(row.name, pose, row.range_m)
        elif row.intrinsics is not None:
            k = row.intrinsics
            intrinsics = CameraIntrinsics(
                np.asarray(k["matrix"], dtype=np.float64),
                int(k["width"]),
                int(k["height"]),
                tuple(float(v) for v in k.get("distortion", [])),
            )
            cameras[row.name] = CameraSensor(row.name, pose, intrinsics)
    return lidar, cameras


def layer_tracks(session: Session, layer_id: int, track_ids: TrackIds = "row") -> list[Track]:
    """The layer's tracks that are not deleted, in creation order.

    ``track_ids="row"`` names each track by its row id (what the editor and the API address);
    ``"key"`` by the source's id where those are unique in the layer (what an export should keep).
    """
    rows = list(
        session.scalars(
            select(TrackRow)
            .where(TrackRow.layer_id == layer_id, TrackRow.deleted.is_(False))
            .order_by(TrackRow.id)
        )
    )
    return tracks_from_rows(session, rows, track_ids)


def tracks_from_rows(session: Session, rows: Sequence[TrackRow], track_ids: TrackIds = "row") -> list[Track]:
    """Domain tracks for ``rows``, with their keyframes fetched in one query."""
    keyframes: dict[int, list[KeyframeRow]] = defaultdict(list)
    ids = [r.id for r in rows]
    # In chunks: SQLite and PostgreSQL limit the number of bound parameters of one statement.
    for start in range(0, len(ids), _IN_CHUNK):
        query = (
            select(KeyframeRow)
            .where(KeyframeRow.track_id.in_(ids[start : start + _IN_CHUNK]))
            .order_by(KeyframeRow.track_id, KeyframeRow.frame)
        )
        for keyframe in session.scalars(query):
            keyframes[keyframe.track_id].append(keyframe)
    tracks = [track_from_rows(row, keyframes[row.id]) for row in rows]
    keys = [row.key for row in rows]
    if track_ids == "key" and len(set(keys)) == len(keys):
        for track, key in zip(tracks, keys, strict=True):
            track.track_id = key
    return tracks


def _layers(
    session: Session, scene_id: int, names: Sequence[str] | None, track_ids: TrackIds
) -> list[AnnotationLayer]:
    query = select(LayerRow).where(LayerRow.scene_id == scene_id).order_by(LayerRow.id)
    rows = list(session.scalars(query))
    if names is not None:
        by_name = {row.name: row for row in rows}
        missing = [n for n in names if n not in by_name]
        if missing:
            known = ", ".join(by_name) or "none"
            raise NotFoundError(f"scene {scene_id} has no layer {missing[0]!r} (layers: {known})")
        rows = [by_name[n] for n in names]
    layers: list[AnnotationLayer] = []
    for row in rows:
        tracks_2d = session.scalars(
            select(Track2DRow).where(Track2DRow.layer_id == row.id).order_by(Track2DRow.id)
        )
        layers.append(
            AnnotationLayer(
                row.name,
                layer_tracks(session, row.id, track_ids),
                [track2d_from_row(t) for t in tracks_2d],
                description=row.description,
            )
        )
    return layers


def scene_from_rows(
    session: Session, scene_row: SceneRow, layers: Sequence[str] | None = None, track_ids: TrackIds = "row"
) -> Scene:
    """The domain scene of a row, without an access check (for services that checked already)."""
    lidar, cameras = _sensors(session, scene_row.id)
    scene = Scene(
        name=scene_row.name,
        frames=_frames(session, scene_row.id),
        lidar=lidar,
        cameras=cameras,
        source_format=scene_row.source_format,
        notes=list(scene_row.notes or []),
    )
    for layer in _layers(session, scene_row.id, layers, track_ids):
        scene.add_layer(layer)
    return scene


def load_scene(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    scene_id: int,
    layers: list[str] | None = None,
    *,
    track_ids: TrackIds = "row",
) -> Scene:
    """A stored scene as the domain Scene (``layers``: just these; default all).

    Payloads stay in the blob store: sweeps are ``BlobRef(<blob key>, "f32-blob")``, images
    ``BlobRef(<blob key>, <their source encoding>)``; ``blobs`` is the store those keys belong to
    (read them with ``blobs.get``, or see ``frame_data``).
    """
    del blobs  # the keys are relative to it; nothing needs reading to build the scene
    return scene_from_rows(session, visible_scene(session, actor, scene_id), layers, track_ids)
