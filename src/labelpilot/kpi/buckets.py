"""Events summed into per-day buckets (the rollups), and delivered tracks summed per task and class.

Bucketing continues where an earlier batch stopped: ``last_seen`` holds each person's latest earlier
event, so the gap that ends at a batch's first event is counted as if both batches were one. An event
older than the person's latest earlier one (a late commit) adds no time and does not move the cursor.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime

from labelpilot.kpi.records import (
    ActivityBucket,
    ActivityDigest,
    ActivityEvent,
    DayActivity,
    DeliveredWork,
    Delivery,
)
from labelpilot.kpi.tally import DRAWN, FROM_CANDIDATE, NUDGE_FOLLOWED, NUDGE_SHOWN

BucketKey = tuple[int, date, int | None, str, str | None]


def utc_day(at: datetime) -> date:
    if at.tzinfo is None:
        raise ValueError("KPI times must be timezone-aware")
    return at.astimezone(UTC).date()


def bucket_events(
    events: Iterable[ActivityEvent], idle_seconds: float, last_seen: Mapping[int, datetime] | None = None
) -> tuple[list[ActivityBucket], dict[int, datetime]]:
    """The buckets of ``events`` (in any order) and every person's latest event afterwards."""
    people: dict[int, list[ActivityEvent]] = defaultdict(list)
    for event in events:
        people[event.user_id].append(event)
    sums: dict[BucketKey, list[float]] = {}
    latest = dict(last_seen or {})
    for user_id, own in people.items():
        own.sort(key=lambda e: e.at)  # stable: same-instant events keep their recorded order
        previous = latest.get(user_id)
        for event in own:
            gap = 0.0 if previous is None else (event.at - previous).total_seconds()
            key = (user_id, utc_day(event.at), event.task_id, event.kind, event.label)
            bucket = sums.setdefault(key, [0.0, 0])
            bucket[0] += gap if 0.0 <= gap <= idle_seconds else 0.0
            bucket[1] += 1
            if previous is None or event.at > previous:
                previous = event.at
        if previous is not None:
            latest[user_id] = previous
    buckets = [
        ActivityBucket(user_id, day, task_id, kind, label, seconds, int(count))
        for (user_id, day, task_id, kind, label), (seconds, count) in sums.items()
    ]
    return buckets, latest


def digest(buckets: Iterable[ActivityBucket]) -> ActivityDigest:
    """Buckets summed per person and day, class, event kind and task."""
    days: dict[tuple[int, date], list[float]] = {}
    classes: dict[tuple[int, str], float] = defaultdict(float)
    actions: dict[tuple[int, str], float] = defaultdict(float)
    tasks: dict[tuple[int, int], float] = defaultdict(float)
    for b in buckets:
        day = days.setdefault((b.user_id, b.day), [0.0, 0, 0, 0])
        day[0] += b.seconds
        day[1] += b.events
        day[2] += b.events if b.kind == NUDGE_SHOWN else 0
        day[3] += b.events if b.kind == NUDGE_FOLLOWED else 0
        if b.label:
            classes[(b.user_id, b.label)] += b.seconds
        actions[(b.user_id, b.kind)] += b.seconds
        if b.task_id is not None:
            tasks[(b.user_id, b.task_id)] += b.seconds
    return ActivityDigest(
        [DayActivity(user, day, sums[0], *map(int, sums[1:])) for (user, day), sums in days.items()],
        dict(classes),
        dict(actions),
        dict(tasks),
    )


def work_of(deliveries: Iterable[Delivery]) -> list[DeliveredWork]:
    """Delivered tracks summed per task and class."""
    sums: dict[tuple[int, str], list[int]] = {}
    owners: dict[tuple[int, str], tuple[int, date]] = {}
    for delivery in deliveries:
        key = (delivery.task_id, delivery.label)
        owners[key] = (delivery.user_id, utc_day(delivery.at))
        counts = sums.setdefault(key, [0, 0, 0, 0, 0])
        counts[0] += 1
        counts[1] += delivery.shapes
        counts[2] += int(delivery.provenance_kind == FROM_CANDIDATE)
        counts[3] += int(delivery.provenance_kind == DRAWN)
        counts[4] += int(delivery.stationary)
    return [
        DeliveredWork(owners[key][0], owners[key][1], key[0], key[1], *counts)
        for key, counts in sorted(sums.items())
    ]
