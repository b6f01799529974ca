"""Rollup buckets by hand, and buckets made in batches (as the rollups are) equal one pass over all."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from labelpilot.kpi.buckets import bucket_events, digest, work_of
from labelpilot.kpi.records import ActivityBucket, ActivityEvent, Delivery

ANN, ABE = 1, 2
START = datetime(2026, 12, 14, 23, 59, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


EVENTS = [
    ActivityEvent(at(0), ANN, "task_started", 7),
    ActivityEvent(at(30), ANN, "track_created", 7, "Car"),
    ActivityEvent(at(50), ABE, "task_started", 8),
    ActivityEvent(at(60), ANN, "keyframe_set", 7, "Car"),
    ActivityEvent(at(100), ANN, "keyframe_set", 7, "Car"),
    ActivityEvent(at(400), ANN, "keyframe_set", 7, "Pedestrian"),  # 300 s away: no time
    ActivityEvent(at(410), ABE, "heartbeat", 8),  # 360 s after his last: no time
    ActivityEvent(at(420), ABE, "heartbeat", 8),
]


def _key(b: ActivityBucket) -> tuple[int, date, int | None, str, str | None]:
    return (b.user_id, b.day, b.task_id, b.kind, b.label)


def test_buckets_by_hand() -> None:
    buckets, latest = bucket_events(EVENTS, idle_seconds=120.0)
    got = {_key(b): (b.seconds, b.events) for b in buckets}
    d14, d15 = date(2026, 12, 14), date(2026, 12, 15)
    assert got == {
        (ANN, d14, 7, "task_started", None): (0.0, 1),
        (ANN, d14, 7, "track_created", "Car"): (30.0, 1),
        (ANN, d15, 7, "keyframe_set", "Car"): (30.0 + 40.0, 2),  # past midnight: the 15th
        (ANN, d15, 7, "keyframe_set", "Pedestrian"): (0.0, 1),
        (ABE, d14, 8, "task_started", None): (0.0, 1),
        (ABE, d15, 8, "heartbeat", None): (10.0, 2),
    }
    assert latest == {ANN: at(400), ABE: at(420)}


def _totals(
    buckets: list[ActivityBucket],
) -> dict[tuple[int, date, int | None, str, str | None], tuple[float, int]]:
    totals: dict[tuple[int, date, int | None, str, str | None], tuple[float, int]] = {}
    for b in buckets:
        seconds, events = totals.get(_key(b), (0.0, 0))
        totals[_key(b)] = (seconds + b.seconds, events + b.events)
    return totals


def test_batches_continue_where_the_last_one_stopped() -> None:
    whole, whole_latest = bucket_events(EVENTS, idle_seconds=120.0)
    for cut in range(len(EVENTS) + 1):
        first, latest = bucket_events(EVENTS[:cut], 120.0)
        second, latest = bucket_events(EVENTS[cut:], 120.0, latest)
        assert _totals(first + second) == _totals(whole), cut
        assert latest == whole_latest


def test_a_late_event_adds_no_time_and_keeps_the_cursor() -> None:
    _, latest = bucket_events(EVENTS, 120.0)
    late, after = bucket_events([ActivityEvent(at(90), ANN, "heartbeat", 7)], 120.0, latest)
    assert [(b.seconds, b.events) for b in late] == [(0.0, 1)]
    assert after[ANN] == at(400)


def test_delivered_tracks_are_summed_per_task_and_class() -> None:
    deliveries = [
        Delivery(ANN, at(500), 7, 1, 20, "candidate", False, "Car"),
        Delivery(ANN, at(500), 7, 2, 10, "manual", True, "Car"),
        Delivery(ANN, at(500), 7, 3, 5, "imported", False, "Cyclist"),
    ]
    work = {(w.task_id, w.label): w for w in work_of(deliveries)}
    car = work[(7, "Car")]
    assert (car.tracks, car.shapes, car.candidates_confirmed, car.tracks_drawn, car.stationary_tracks) == (
        2,
        30,
        1,
        1,
        1,
    )
    assert (work[(7, "Cyclist")].shapes, work[(7, "Cyclist")].day) == (5, date(2026, 12, 15))


def _seconds(times: list[float], idle: float) -> float:
    events = [ActivityEvent(at(s), ANN, "keyframe_set") for s in times]
    return sum(b.seconds for b in bucket_events(reversed(events), idle)[0])


def test_gaps_up_to_the_idle_threshold_count_fully_and_longer_ones_not_at_all() -> None:
    # gaps: 30, 70, 300 (away), 30, 120 (exactly the threshold: counts), 150 (away)
    times = [0, 30, 100, 400, 430, 550, 700]
    assert _seconds(times, 120.0) == 30 + 70 + 30 + 120
    assert _seconds(times, 29.0) == 0.0
    assert _seconds(times, 300.0) == 30 + 70 + 300 + 30 + 120 + 150
    assert _seconds([5], 120.0) == 0.0  # a lone event
    assert _seconds([5, 5], 120.0) == 0.0


def test_the_digest_sums_buckets_the_ways_the_kpis_read_them() -> None:
    nudges = [
        ActivityEvent(at(440), ANN, "nudge_shown", 7, "Car"),
        ActivityEvent(at(450), ANN, "nudge_followed", 7, "Car"),
    ]
    digest_ = digest(bucket_events(EVENTS + nudges, 120.0)[0])
    d14, d15 = date(2026, 12, 14), date(2026, 12, 15)
    days = {
        (d.user_id, d.day): (d.seconds, d.events, d.nudges_shown, d.nudges_followed) for d in digest_.days
    }
    assert days == {
        (ANN, d14): (30.0, 2, 0, 0),
        (ANN, d15): (70.0 + 0.0 + 40.0 + 10.0, 5, 1, 1),
        (ABE, d14): (0.0, 1, 0, 0),
        (ABE, d15): (10.0, 2, 0, 0),
    }
    assert digest_.class_seconds == {(ANN, "Car"): 30.0 + 70.0 + 40.0 + 10.0, (ANN, "Pedestrian"): 0.0}
    assert digest_.action_seconds[(ANN, "keyframe_set")] == 70.0
    assert digest_.task_seconds == {(ANN, 7): 150.0, (ABE, 8): 10.0}
    merged = digest_.merged(digest_)
    assert merged.task_seconds == {(ANN, 7): 300.0, (ABE, 8): 20.0} and len(merged.days) == 8
