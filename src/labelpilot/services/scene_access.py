"""Who may see a scene, and the blob keys a scene's payloads live under.

Staff (reviewer, coach, manager) and administrators see every scene of their projects; an annotator
sees only the scenes of tasks assigned to them. Everyone else is told the scene does not exist, so
that scene ids and names do not leak across projects.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.services.actors import STAFF, Actor, Role, role_in
from labelpilot.services.errors import NotFoundError
from labelpilot.store.tables import FrameRow, LayerRow, SceneRow, TaskRow

MANAGERS = frozenset({Role.MANAGER})
"""Roles that may import scenes (administrators always may)."""


def scene_prefix(scene_id: int) -> str:
    """Every blob of a scene lives under this key prefix, so a scene's blobs go away together."""
    return f"scenes/{scene_id}"


def lidar_key(scene_id: int, frame_index: int) -> str:
    return f"{scene_prefix(scene_id)}/lidar/{frame_index:06d}.f32"


def image_key(scene_id: int, camera: str, frame_index: int, extension: str) -> str:
    return f"{scene_prefix(scene_id)}/images/{camera}/{frame_index:06d}.{extension}"


def can_see_scene(session: Session, actor: Actor, scene: SceneRow) -> bool:
    role = role_in(session, actor, scene.project_id)
    if actor.is_admin or role in STAFF:
        return True
    if role is not Role.ANNOTATOR:
        return False
    assigned = session.scalar(
        select(TaskRow.id).where(TaskRow.scene_id == scene.id, TaskRow.assignee_id == actor.user_id).limit(1)
    )
    return assigned is not None


def visible_scene(session: Session, actor: Actor, scene_id: int) -> SceneRow:
    """The scene if ``actor`` may see it; NotFoundError otherwise (also when it does not exist)."""
    scene = session.get(SceneRow, scene_id)
    if scene is None or not can_see_scene(session, actor, scene):
        raise NotFoundError(f"scene {scene_id} not found")
    return scene


def frame_row(session: Session, scene: SceneRow, frame_index: int) -> FrameRow:
    frame = session.scalar(
        select(FrameRow).where(FrameRow.scene_id == scene.id, FrameRow.index == frame_index)
    )
    if frame is None:
        raise NotFoundError(
            f"scene {scene.id} has no frame {frame_index} (frames 0..{scene.frame_count - 1})"
        )
    return frame


def frame_stamps_us(session: Session, scene_id: int) -> list[int]:
    """The scene's frame timestamps (integer microseconds), in frame order."""
    return list(
        session.scalars(
            select(FrameRow.timestamp_us).where(FrameRow.scene_id == scene_id).order_by(FrameRow.index)
        )
    )


def layer_row(session: Session, scene: SceneRow, name: str) -> LayerRow:
    layer = session.scalar(select(LayerRow).where(LayerRow.scene_id == scene.id, LayerRow.name == name))
    if layer is None:
        known = session.scalars(
            select(LayerRow.name).where(LayerRow.scene_id == scene.id).order_by(LayerRow.id)
        ).all()
        raise NotFoundError(f"scene {scene.id} has no layer {name!r} (layers: {', '.join(known) or 'none'})")
    return layer
