"""The plain records the KPIs are computed from (the service layer reads them from the tables)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

Key = TypeVar("Key", tuple[int, str], tuple[int, int])


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


@dataclass(frozen=True)
class DayActivity:
    """A person's active time, events and nudge counts on one UTC day."""

    user_id: int
    day: date
    seconds: float
    events: int
    nudges_shown: int
    nudges_followed: int


def _sum_into(total: dict[Key, float], more: Mapping[Key, float]) -> dict[Key, float]:
    for key, seconds in more.items():
        total[key] = total.get(key, 0.0) + seconds
    return total


@dataclass(frozen=True)
class ActivityDigest:
    """Activity summed the ways the KPIs read it (what the rollup tables hold)."""

    days: list[DayActivity]
    class_seconds: dict[tuple[int, str], float]
    """(person, class) -> active seconds in events on tracks of the class"""
    action_seconds: dict[tuple[int, str], float]
    """(person, event kind) -> active seconds that ended in events of the kind"""
    task_seconds: dict[tuple[int, int], float]
    """(person, task) -> active seconds in events of the task"""

    def merged(self, other: ActivityDigest) -> ActivityDigest:
        return ActivityDigest(
            self.days + other.days,
            _sum_into(dict(self.class_seconds), other.class_seconds),
            _sum_into(dict(self.action_seconds), other.action_seconds),
            _sum_into(dict(self.task_seconds), other.task_seconds),
        )
