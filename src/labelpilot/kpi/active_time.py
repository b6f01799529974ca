"""Active time from the gaps between a person's events.

A person's events are sorted in time; the gap before each event counts fully when it is at most the
idle threshold and not at all when it is longer (the person was away, and nobody can tell for how
much of the gap they still worked). A lone event counts nothing. Each event is credited with the gap
that ends at it, so the time lands on the day and the action kind of the event that ends the gap.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from labelpilot.kpi.records import ActivityEvent


@dataclass(frozen=True)
class ActiveSpan:
    """An event and the active seconds of the gap that ends at it (0 for a person's first event)."""

    event: ActivityEvent
    seconds: float


def active_gaps(times: Sequence[datetime], idle_seconds: float) -> list[float]:
    """For times sorted ascending: the seconds each one adds (its gap if at most ``idle_seconds``)."""
    gaps = [0.0] * len(times)
    for index in range(1, len(times)):
        gap = (times[index] - times[index - 1]).total_seconds()
        if gap < 0:
            raise ValueError("times must be sorted ascending")
        gaps[index] = gap if gap <= idle_seconds else 0.0
    return gaps


def active_seconds(times: Iterable[datetime], idle_seconds: float) -> float:
    """The active time covered by one person's events, in any order."""
    return sum(active_gaps(sorted(times), idle_seconds))


def _by_person(events: Iterable[ActivityEvent]) -> dict[int, list[ActivityEvent]]:
    people: dict[int, list[ActivityEvent]] = defaultdict(list)
    for event in events:
        people[event.user_id].append(event)
    for own in people.values():
        # Stable: events at the same instant keep the order they were recorded in.
        own.sort(key=lambda e: e.at)
    return people


def attribute_active_time(events: Iterable[ActivityEvent], idle_seconds: float) -> list[ActiveSpan]:
    """Every event with the active seconds credited to it, each person's gaps taken separately."""
    spans: list[ActiveSpan] = []
    for own in _by_person(events).values():
        gaps = active_gaps([e.at for e in own], idle_seconds)
        spans.extend(ActiveSpan(event, gap) for event, gap in zip(own, gaps, strict=True))
    return spans


def active_seconds_by_task(
    events: Iterable[ActivityEvent], idle_seconds: float
) -> dict[tuple[int, int], float]:
    """(person, task) -> active seconds, from that person's events of that task alone."""
    per_task: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for event in events:
        if event.task_id is not None:
            per_task[(event.user_id, event.task_id)].append(event.at)
    return {key: active_seconds(times, idle_seconds) for key, times in per_task.items()}


def seconds_by_action(spans: Iterable[ActiveSpan]) -> dict[str, float]:
    """Event kind -> the active seconds credited to events of that kind."""
    totals: dict[str, float] = defaultdict(float)
    for span in spans:
        totals[span.event.kind] += span.seconds
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))
