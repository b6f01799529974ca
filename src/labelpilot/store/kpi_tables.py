"""Precomputed KPI rollups, so that a dashboard reads a few hundred rows instead of every event.

``kpi_days``, ``kpi_class_time``, ``kpi_action_time`` and ``kpi_task_time`` hold active seconds (and
counts) per project and person and per UTC day, object class, event kind or task, for every event
recorded before the project's ``kpi_rollup_state.through_at``; the events since then (the last minute
or two) are read as they are. ``kpi_cursors`` keeps each person's
last rolled-up event time, where the next gap starts. ``kpi_task_shapes`` is the delivered work of each
submitted task per class, recomputed whenever a task of its layer changes state, and
``kpi_review_decisions`` each accept or reject of a task, credited to the person whose work it was.
All of it can be rebuilt from the event log and the tracks (``labelpilot kpi-rebuild``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from labelpilot.store.tables import Base


class KpiRollupState(Base):
    __tablename__ = "kpi_rollup_state"
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    through_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """events with ``at`` before this are in the rollups"""
    idle_seconds: Mapped[float] = mapped_column(Float)
    """the idle threshold the rollups were computed with (another one means a rebuild)"""


class KpiCursor(Base):
    __tablename__ = "kpi_cursors"
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KpiDay(Base):
    """A person's active time, events and nudges on one UTC day."""

    __tablename__ = "kpi_days"
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    seconds: Mapped[float] = mapped_column(Float)
    events: Mapped[int] = mapped_column(Integer)
    nudges_shown: Mapped[int] = mapped_column(Integer)
    nudges_followed: Mapped[int] = mapped_column(Integer)


class KpiClassTime(Base):
    """A person's active time in events on tracks of one class."""

    __tablename__ = "kpi_class_time"
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(80), primary_key=True)
    seconds: Mapped[float] = mapped_column(Float)


class KpiActionTime(Base):
    """A person's active time that ended in events of one kind."""

    __tablename__ = "kpi_action_time"
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), primary_key=True)
    seconds: Mapped[float] = mapped_column(Float)


class KpiTaskTime(Base):
    """A person's active time in events of one task."""

    __tablename__ = "kpi_task_time"
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    task_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    """no foreign key: the time stays when a task is deleted"""
    seconds: Mapped[float] = mapped_column(Float)


class KpiTaskShapes(Base):
    __tablename__ = "kpi_task_shapes"
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(80), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    tracks: Mapped[int] = mapped_column(Integer)
    shapes: Mapped[int] = mapped_column(Integer)
    candidates_confirmed: Mapped[int] = mapped_column(Integer)
    tracks_drawn: Mapped[int] = mapped_column(Integer)
    stationary_tracks: Mapped[int] = mapped_column(Integer)


class KpiReviewDecision(Base):
    __tablename__ = "kpi_review_decisions"
    event_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    """the task_accepted / task_rejected event"""
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    """whose work was reviewed"""
    day: Mapped[date] = mapped_column(Date)
    accepted: Mapped[bool] = mapped_column(Boolean)
