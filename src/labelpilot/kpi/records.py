"""The plain records the KPIs are computed from (the service layer reads them from the tables)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ActivityEvent:
    """One recorded event of a person. ``at`` is timezone-aware (UTC)."""

    at: datetime
    user_id: int
    kind: str
    task_id: int | None = None


@dataclass(frozen=True)
class SubmittedTask:
    """An annotate task that is submitted or accepted: its layer on its scene is delivered work."""

    task_id: int
    scene_id: int
    layer: str
    user_id: int
    """who submitted it (last, when it was reworked)"""
    submitted_at: datetime


@dataclass(frozen=True)
class LayerTrack:
    """A confirmed, live track of a layer, reduced to what the KPIs count."""

    track_id: int
    scene_id: int
    layer: str
    shapes: int
    provenance_kind: str
    """manual (drawn by a person), candidate (confirmed from automation) or imported"""
    stationary: bool


@dataclass(frozen=True)
class Delivery:
    """One delivered track, credited to the person who submitted the task it counts for."""

    user_id: int
    at: datetime
    task_id: int
    track_id: int
    shapes: int
    provenance_kind: str
    stationary: bool
