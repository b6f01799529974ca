"""What the editor draws for one frame: the sweep, a camera image, and every shape of a layer.

Shapes are derived on every request (interpolated in the world, moved into the frame's ego frame)
from the tracks' keyframes or stationary poses; they are never stored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.geometry import Cuboid
from labelpilot.geometry.pose_json import pose_from_json
from labelpilot.services.actors import Actor
from labelpilot.services.errors import NotFoundError
from labelpilot.services.pose_layers import active_poses_json
from labelpilot.services.scene_access import frame_row, layer_row, visible_scene
from labelpilot.services.scene_load import tracks_from_rows
from labelpilot.store.blobs import BlobStore, etag_of
from labelpilot.store.tables import TrackRow
from labelpilot.tracks import Keyframed, world_shapes


def _blob(blobs: BlobStore, key: str) -> bytes:
    try:
        return blobs.get(key)
    except FileNotFoundError:
        raise NotFoundError(f"the payload {key} is missing from the blob store") from None


def sweep_bytes(
    session: Session, blobs: BlobStore, actor: Actor, scene_id: int, frame_index: int
) -> tuple[bytes, str]:
    """The frame's sweep as little-endian float32 x, y, z, intensity rows (lidar frame), and its ETag."""
    scene = visible_scene(session, actor, scene_id)
    frame = frame_row(session, scene, frame_index)
    if frame.lidar_blob is None:
        raise NotFoundError(f"frame {frame_index} of scene {scene_id} has no lidar sweep")
    data = _blob(blobs, frame.lidar_blob)
    return data, etag_of(data)


def image_bytes(
    session: Session, blobs: BlobStore, actor: Actor, scene_id: int, frame_index: int, camera: str
) -> tuple[bytes, str, str]:
    """The camera's image of the frame as stored (e.g. PNG, JPEG), its media type and ETag."""
    scene = visible_scene(session, actor, scene_id)
    frame = frame_row(session, scene, frame_index)
    image = (frame.images or {}).get(camera)
    if image is None:
        have = ", ".join(sorted(frame.images or {})) or "none"
        raise NotFoundError(
            f"frame {frame_index} of scene {scene_id} has no {camera!r} image (images: {have})"
        )
    data = _blob(blobs, str(image["key"]))
    return data, str(image["media_type"]), etag_of(data)


def cuboid_json(cuboid: Cuboid) -> dict[str, Any]:
    return {
        "center": [float(v) for v in cuboid.center],
        "size": [float(v) for v in cuboid.size],
        "yaw": cuboid.yaw,
        "quaternion": [float(v) for v in cuboid.quat_xyzw],  # x, y, z, w
    }


def frame_shapes(
    session: Session, actor: Actor, scene_id: int, frame_index: int, layer: str
) -> list[dict[str, Any]]:
    """Every track of ``layer`` with a shape in the frame, with its ego- and world-frame cuboid."""
    scene = visible_scene(session, actor, scene_id)
    frame = frame_row(session, scene, frame_index)
    layer_id = layer_row(session, scene, layer).id
    rows = list(
        session.scalars(
            select(TrackRow)
            .where(
                TrackRow.layer_id == layer_id,
                TrackRow.deleted.is_(False),
                TrackRow.first_frame <= frame_index,
                TrackRow.last_frame >= frame_index,
            )
            .order_by(TrackRow.id)
        )
    )
    active = active_poses_json(session, scene.id)
    ego_T_world = pose_from_json(frame.world_T_ego if active is None else active[frame_index]).inverse()
    shapes: list[dict[str, Any]] = []
    for row, track in zip(rows, tracks_from_rows(session, rows), strict=True):
        if not track.has_shape(frame_index):
            continue
        world = world_shapes(track, [frame_index]).cuboids[0]
        motion = track.motion
        shapes.append(
            {
                "track_id": row.id,
                "key": row.key,
                "label": row.label,
                "status": row.status,
                "stationary": track.is_stationary,
                "score": row.score,
                "version": row.version,
                "keyframe": isinstance(motion, Keyframed) and frame_index in motion.keyframes,
                "ego": cuboid_json(world.transformed(ego_T_world)),
                "world": cuboid_json(world),
            }
        )
    return shapes
