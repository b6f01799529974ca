"""Browse scenes: the list a project member may see, one scene's overview, its frames and layers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelpilot.scenes import frame_period_s
from labelpilot.services.actors import ALL_ROLES, STAFF, Actor, require_role
from labelpilot.services.pose_layers import active_poses_json
from labelpilot.services.scene_access import frame_stamps_us, visible_scene
from labelpilot.store.tables import FrameRow, LayerRow, SceneRow, SensorRow, TaskRow, Track2DRow, TrackRow


@dataclass(frozen=True)
class SceneSummary:
    id: int
    project_id: int
    name: str
    source_format: str
    frame_count: int
    duration_s: float
    created_at: datetime


@dataclass(frozen=True)
class SensorView:
    name: str
    kind: str  # lidar | camera
    ego_T_sensor: list[float]  # 3x4 row-major
    intrinsics: dict[str, Any] | None  # {matrix, width, height, distortion} for cameras


@dataclass(frozen=True)
class LayerView:
    id: int
    name: str
    description: str
    track_count: int  # 3D tracks that are not deleted
    track_2d_count: int


@dataclass(frozen=True)
class SceneDetail:
    summary: SceneSummary
    sensors: list[SensorView]
    layers: list[LayerView]
    notes: list[str]


@dataclass(frozen=True)
class FrameView:
    index: int
    timestamp_us: int
    world_T_ego: list[float]  # 3x4 row-major
    has_lidar: bool
    lidar_points: int | None
    cameras: list[str]


def _durations(session: Session, scene_ids: list[int]) -> dict[int, float]:
    if not scene_ids:
        return {}
    rows = session.execute(
        select(FrameRow.scene_id, func.min(FrameRow.timestamp_us), func.max(FrameRow.timestamp_us))
        .where(FrameRow.scene_id.in_(scene_ids))
        .group_by(FrameRow.scene_id)
    ).all()
    return {scene_id: (last - first) / 1e6 for scene_id, first, last in rows}


def _summaries(session: Session, scenes: list[SceneRow]) -> list[SceneSummary]:
    durations = _durations(session, [s.id for s in scenes])
    return [
        SceneSummary(
            s.id, s.project_id, s.name, s.source_format, s.frame_count, durations.get(s.id, 0.0), s.created_at
        )
        for s in scenes
    ]


def list_scenes(session: Session, actor: Actor, project_id: int) -> list[SceneSummary]:
    """Staff and admins see every scene of the project; an annotator only those of their tasks."""
    role = require_role(session, actor, project_id, ALL_ROLES)
    query = select(SceneRow).where(SceneRow.project_id == project_id).order_by(SceneRow.id)
    if not actor.is_admin and role not in STAFF:
        assigned = select(TaskRow.scene_id).where(TaskRow.assignee_id == actor.user_id)
        query = query.where(SceneRow.id.in_(assigned))
    return _summaries(session, list(session.scalars(query)))


def list_layers(session: Session, actor: Actor, scene_id: int) -> list[LayerView]:
    visible_scene(session, actor, scene_id)
    tracks = (
        select(TrackRow.layer_id, func.count().label("n"))
        .where(TrackRow.deleted.is_(False))
        .group_by(TrackRow.layer_id)
        .subquery()
    )
    tracks_2d = select(Track2DRow.layer_id, func.count().label("n")).group_by(Track2DRow.layer_id).subquery()
    rows = session.execute(
        select(LayerRow, func.coalesce(tracks.c.n, 0), func.coalesce(tracks_2d.c.n, 0))
        .outerjoin(tracks, tracks.c.layer_id == LayerRow.id)
        .outerjoin(tracks_2d, tracks_2d.c.layer_id == LayerRow.id)
        .where(LayerRow.scene_id == scene_id)
        .order_by(LayerRow.id)
    ).all()
    return [LayerView(layer.id, layer.name, layer.description, n, n2d) for layer, n, n2d in rows]


def get_scene(session: Session, actor: Actor, scene_id: int) -> SceneDetail:
    scene = visible_scene(session, actor, scene_id)
    sensors = session.scalars(select(SensorRow).where(SensorRow.scene_id == scene_id).order_by(SensorRow.id))
    return SceneDetail(
        summary=_summaries(session, [scene])[0],
        sensors=[SensorView(s.name, s.kind, list(s.ego_T_sensor), s.intrinsics) for s in sensors],
        layers=list_layers(session, actor, scene_id),
        notes=[str(n) for n in scene.notes or []],
    )


def list_frames(session: Session, actor: Actor, scene_id: int) -> list[FrameView]:
    visible_scene(session, actor, scene_id)
    rows = session.scalars(select(FrameRow).where(FrameRow.scene_id == scene_id).order_by(FrameRow.index))
    active = active_poses_json(session, scene_id)  # a corrected trajectory, when one is active
    return [
        FrameView(
            index=f.index,
            timestamp_us=f.timestamp_us,
            world_T_ego=list(f.world_T_ego if active is None else active[f.index]),
            has_lidar=f.lidar_blob is not None,
            lidar_points=f.lidar_points,
            cameras=sorted((f.images or {}).keys()),
        )
        for f in rows
    ]


def scene_frame_period_s(session: Session, scene_id: int) -> float:
    """The median time between the scene's stored frames, in seconds."""
    return frame_period_s(frame_stamps_us(session, scene_id))
