"""Active time from gaps between events: hand-computed on known event sequences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from labelpilot.kpi.active_time import (
    active_gaps,
    active_seconds,
    active_seconds_by_task,
    attribute_active_time,
    seconds_by_action,
)
from labelpilot.kpi.records import ActivityEvent

START = datetime(2026, 12, 14, 10, 0, tzinfo=UTC)
IDLE = 120.0
ANN, ABE = 1, 2


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def test_gaps_up_to_the_idle_threshold_count_fully_and_longer_ones_not_at_all() -> None:
    # gaps: 30, 70, 300 (away), 30, 120 (exactly the threshold: counts), 150 (away)
    times = [at(s) for s in (0, 30, 100, 400, 430, 550, 700)]
    assert active_gaps(times, IDLE) == [0.0, 30.0, 70.0, 0.0, 30.0, 120.0, 0.0]
    assert active_seconds(reversed(times), IDLE) == 250.0
    assert active_seconds(times, 29.0) == 0.0
    assert active_seconds(times, 300.0) == 30 + 70 + 300 + 30 + 120 + 150


def test_a_lone_event_and_no_events_count_nothing() -> None:
    assert active_seconds([at(5)], IDLE) == 0.0
    assert active_seconds([], IDLE) == 0.0
    assert active_seconds([at(5), at(5)], IDLE) == 0.0


def test_unsorted_gaps_are_refused() -> None:
    with pytest.raises(ValueError, match="sorted"):
        active_gaps([at(10), at(0)], IDLE)


def test_each_persons_gaps_are_their_own_even_when_interleaved() -> None:
    events = [
        ActivityEvent(at(0), ANN, "task_started"),
        ActivityEvent(at(10), ABE, "task_started"),
        ActivityEvent(at(30), ANN, "keyframe_set"),
        ActivityEvent(at(50), ABE, "track_created"),
        ActivityEvent(at(100), ANN, "keyframe_set"),
        ActivityEvent(at(500), ABE, "heartbeat"),  # 450 s after abe's last event: away
        ActivityEvent(at(400), ANN, "heartbeat"),  # 300 s after ann's last: away
        ActivityEvent(at(430), ANN, "candidate_confirmed"),
    ]
    spans = attribute_active_time(events, IDLE)
    per_person: dict[int, float] = {}
    for span in spans:
        per_person[span.event.user_id] = per_person.get(span.event.user_id, 0.0) + span.seconds
    assert per_person == {ANN: 30 + 70 + 30, ABE: 40.0}
    # Mixed together, one person's events would fill the other's pauses.
    assert active_seconds([e.at for e in events], IDLE) == 10 + 20 + 20 + 50 + 30 + 70
    # Most time first; the kinds that ended no active gap are listed with 0.
    assert list(seconds_by_action(spans).items()) == [
        ("keyframe_set", 100.0),
        ("track_created", 40.0),
        ("candidate_confirmed", 30.0),
        ("heartbeat", 0.0),
        ("task_started", 0.0),
    ]


def test_active_time_per_task_takes_only_that_tasks_events_of_that_person() -> None:
    events = [
        ActivityEvent(at(0), ANN, "task_started", task_id=7),
        ActivityEvent(at(30), ANN, "keyframe_set", task_id=7),
        ActivityEvent(at(100), ANN, "task_started", task_id=8),
        ActivityEvent(at(190), ANN, "keyframe_set", task_id=8),
        ActivityEvent(at(400), ANN, "keyframe_set", task_id=7),  # 370 s after task 7's last event
        ActivityEvent(at(420), ANN, "project_settings_changed"),  # no task
        ActivityEvent(at(60), ABE, "keyframe_set", task_id=7),
        ActivityEvent(at(80), ABE, "keyframe_set", task_id=7),
    ]
    assert active_seconds_by_task(events, IDLE) == {(ANN, 7): 30.0, (ANN, 8): 90.0, (ABE, 7): 20.0}
