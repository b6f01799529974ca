"""The plain records the KPIs are computed from (the service layer reads them from the tables)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class ActivityEvent:
    """One recorded event of a person. ``at`` is timezone-aware (UTC)."""

    at: datetime
    user_id: int
    kind: str
    task_id: int | None = None
    label: str | None = None
    """the class of the track the event was about, if any"""


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
    label: str = ""


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
    label: str = ""


@dataclass(frozen=True)
class ActivityBucket:
    """Active time and events of one person on one UTC day, summed per task, event kind and object class."""

    user_id: int
    day: date
    task_id: int | None
    kind: str
    label: str | None
    """the class of the track the events were about; None for events on no track"""
    seconds: float
    events: int


@dataclass(frozen=True)
class DeliveredWork:
    """What one submitted task delivered of one class, credited to its submitter on the day it was submitted."""

    user_id: int
    day: date
    task_id: int
    label: str
    tracks: int
    shapes: int
    candidates_confirmed: int
    tracks_drawn: int
    stationary_tracks: int


@dataclass(frozen=True)
class ReviewDecision:
    """A reviewer's accept or reject of a task, credited to the person whose work it was."""

    user_id: int
    day: date
    task_id: int
    accepted: bool
