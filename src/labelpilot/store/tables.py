"""Database tables (SQLAlchemy 2). Schema changes go through Alembic migrations in store/migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginSession(Base):
    __tablename__ = "login_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


DEFAULT_HOURLY_COST_EUR = 25.0
"""What an hour of a person's time costs in a new project (shapes per Euro)."""


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    hourly_cost_eur: Mapped[float] = mapped_column(
        Float, default=DEFAULT_HOURLY_COST_EUR, server_default=text("25.0")
    )
    show_peer_names: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Membership(Base):
    __tablename__ = "memberships"
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    hourly_cost_eur: Mapped[float | None] = mapped_column(Float)
    """what an hour of this member's time costs; None: the project's ``hourly_cost_eur``"""


class SceneRow(Base):
    __tablename__ = "scenes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    source_format: Mapped[str] = mapped_column(String(40))
    notes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    frame_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SensorRow(Base):
    __tablename__ = "sensors"
    __table_args__ = (UniqueConstraint("scene_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(10))  # lidar | camera
    ego_T_sensor: Mapped[list[Any]] = mapped_column(JSON)  # 12 numbers, 3x4 row-major
    intrinsics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    range_m: Mapped[float | None] = mapped_column(Float)  # lidar: how far objects are seen and labelled


class FrameRow(Base):
    __tablename__ = "frames"
    __table_args__ = (UniqueConstraint("scene_id", "index"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    timestamp_us: Mapped[int] = mapped_column(BigInteger)
    world_T_ego: Mapped[list[Any]] = mapped_column(JSON)  # 12 numbers, 3x4 row-major
    lidar_blob: Mapped[str | None] = mapped_column(String(500))  # key in the blob store (float32 x,y,z,i)
    lidar_points: Mapped[int | None] = mapped_column(Integer)
    images: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # camera -> {key, media_type, ...}


class LayerRow(Base):
    __tablename__ = "layers"
    __table_args__ = (UniqueConstraint("scene_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")


class TrackRow(Base):
    __tablename__ = "tracks"
    __table_args__ = (Index("ix_tracks_layer_key", "layer_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(120))  # the source's track id
    label: Mapped[str] = mapped_column(String(80))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    size: Mapped[list[Any]] = mapped_column(JSON)  # length, width, height
    first_frame: Mapped[int] = mapped_column(Integer)
    last_frame: Mapped[int] = mapped_column(Integer)
    stationary_pose: Mapped[list[Any] | None] = mapped_column(JSON)  # 12 numbers when stationary
    absent_frames: Mapped[list[Any]] = mapped_column(JSON, default=list)
    frame_attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    provenance_kind: Mapped[str] = mapped_column(String(20))
    provenance_source: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class Track2DRow(Base):
    """A camera-only track (2D boxes per frame in one camera's image), e.g. MOT tracks, KITTI DontCare."""

    __tablename__ = "tracks_2d"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(120))  # the source's track id
    label: Mapped[str] = mapped_column(String(80))
    camera: Mapped[str] = mapped_column(String(80))
    boxes: Mapped[dict[str, Any]] = mapped_column(JSON)  # frame -> [left, top, width, height, score|null]
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    provenance_kind: Mapped[str] = mapped_column(String(20))
    provenance_source: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20))


class KeyframeRow(Base):
    __tablename__ = "keyframes"
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True)
    frame: Mapped[int] = mapped_column(Integer, primary_key=True)
    world_pose: Mapped[list[Any]] = mapped_column(JSON)  # 12 numbers, 3x4 row-major


class TaskRow(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # annotate | review | practice
    state: Mapped[str] = mapped_column(String(20))
    layer: Mapped[str] = mapped_column(String(120), default="work")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_task_at", "task_id", "at"),
        Index("ix_events_user_at", "user_id", "at"),
        Index("ix_events_project_at", "project_id", "at"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    scene_id: Mapped[int | None] = mapped_column(ForeignKey("scenes.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
