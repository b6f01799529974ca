"""Per person, per day, per week and for the team: a small known history of three people, by hand.

now = 2026-12-15 12:00 UTC; idle threshold 120 s; an hour costs 25 EUR.

ann, 2026-12-05 (the week before): task_started 09:00:00, track_created 09:02:00 (+120 s)
ann, 2026-12-14 (this week): task_started 10:00:00, keyframe_set 10:01:00 (+60), keyframe_set
  10:02:30 (+90), heartbeat 10:10:00 (away: +0), candidate_confirmed 10:11:00 (+60)   -> 210 s
abe, 2026-12-14: task_started 14:00:00, nudge_shown 14:00:40 (+40), nudge_followed 14:01:40 (+60) -> 100 s
meg, 2026-12-13: one task_created (a lone event: 0 s, so not among the peers)
deliveries: ann 20 shapes (drawn, stationary) on 12-05, 70 shapes (a candidate) on 12-14; abe 10 (drawn) on 12-14
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from labelpilot.kpi.buckets import bucket_events, digest, work_of
from labelpilot.kpi.records import ActivityEvent, Delivery
from labelpilot.kpi.summary import (
    ProjectSummary,
    daily_team_median,
    peer_benchmarks,
    summarise,
    summarise_events,
)

ANN, ABE, MEG, CORA = 1, 2, 3, 4
NOW = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)


def t(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=UTC)


EVENTS = [
    ActivityEvent(t(5, 9, 0), ANN, "task_started", 1),
    ActivityEvent(t(5, 9, 2), ANN, "track_created", 1),
    ActivityEvent(t(14, 10, 0), ANN, "task_started", 2),
    ActivityEvent(t(14, 10, 1), ANN, "keyframe_set", 2),
    ActivityEvent(t(14, 10, 2, 30), ANN, "keyframe_set", 2),
    ActivityEvent(t(14, 10, 10), ANN, "heartbeat", 2),
    ActivityEvent(t(14, 10, 11), ANN, "candidate_confirmed", 2),
    ActivityEvent(t(14, 14, 0), ABE, "task_started", 3),
    ActivityEvent(t(14, 14, 0, 40), ABE, "nudge_shown", 3),
    ActivityEvent(t(14, 14, 1, 40), ABE, "nudge_followed", 3),
    ActivityEvent(t(13, 8, 0), MEG, "task_created", 3),
]
DELIVERIES = [
    Delivery(ANN, t(5, 10, 0), 1, 100, 20, "manual", True),
    Delivery(ANN, t(14, 11, 0), 2, 101, 70, "candidate", False),
    Delivery(ABE, t(14, 15, 0), 3, 102, 10, "manual", False),
]


@pytest.fixture
def summary() -> ProjectSummary:
    return summarise_events(
        EVENTS, DELIVERIES, idle_seconds=120.0, hourly_cost_eur=25.0, now=NOW, people=[CORA]
    )


def test_each_persons_totals(summary: ProjectSummary) -> None:
    ann = summary.person(ANN).totals
    assert (ann.active_seconds, ann.shapes) == (330.0, 90)
    assert ann.shapes_per_hour == pytest.approx(90 / (330 / 3600))  # 981.8
    assert ann.seconds_per_shape == pytest.approx(330 / 90)
    assert ann.shapes_per_euro == pytest.approx(90 / (330 / 3600 * 25))
    assert (ann.candidates_confirmed, ann.tracks_drawn, ann.stationary_tracks) == (1, 1, 1)
    abe = summary.person(ABE).totals
    assert (abe.active_seconds, abe.shapes, abe.shapes_per_hour, abe.seconds_per_shape) == (
        100.0,
        10,
        360.0,
        10.0,
    )
    assert (abe.nudges_shown, abe.nudges_followed) == (1, 1)
    meg = summary.person(MEG).totals
    assert (meg.active_seconds, meg.shapes, meg.shapes_per_hour) == (0.0, 0, None)
    # cora did nothing but is listed (a member); someone unknown gets the same empty numbers.
    assert summary.person(CORA).totals == summary.person(99).totals
    assert summary.person(CORA).totals.active_seconds == 0.0 and CORA in summary.people


def test_days_are_utc_days_and_the_team_is_the_sum(summary: ProjectSummary) -> None:
    ann_days = summary.person(ANN).days
    assert list(ann_days) == [date(2026, 12, 5), date(2026, 12, 14)]
    assert (ann_days[date(2026, 12, 5)].active_seconds, ann_days[date(2026, 12, 5)].shapes) == (120.0, 20)
    assert ann_days[date(2026, 12, 14)].shapes_per_hour == pytest.approx(70 / (210 / 3600))  # 1200
    team = summary.team
    assert (team.active_seconds, team.shapes, team.nudges_shown) == (430.0, 100, 1)
    assert team.shapes_per_hour == pytest.approx(100 / (430 / 3600))
    assert list(summary.team_days) == [date(2026, 12, 5), date(2026, 12, 13), date(2026, 12, 14)]
    day = summary.team_days[date(2026, 12, 14)]
    assert (day.active_seconds, day.shapes) == (310.0, 80)
    assert summary.team_days[date(2026, 12, 13)].active_seconds == 0.0
    assert daily_team_median(summary, "shapes_per_hour") == {
        date(2026, 12, 5): pytest.approx(600.0),
        date(2026, 12, 13): None,  # nobody was active
        date(2026, 12, 14): pytest.approx((1200.0 + 360.0) / 2),
    }
    assert list(summary.seconds_by_action.items()) == [
        ("keyframe_set", 150.0),
        ("track_created", 120.0),
        ("candidate_confirmed", 60.0),
        ("nudge_followed", 60.0),
        ("nudge_shown", 40.0),
        ("heartbeat", 0.0),
        ("task_created", 0.0),
        ("task_started", 0.0),
    ]


def test_a_gap_across_midnight_belongs_to_the_day_it_ends() -> None:
    events = [
        ActivityEvent(t(14, 23, 59), ANN, "keyframe_set"),
        ActivityEvent(t(15, 0, 0, 30), ANN, "keyframe_set"),
    ]
    days = summarise_events(events, [], idle_seconds=120.0, hourly_cost_eur=25.0, now=NOW).person(ANN).days
    assert {day: v.active_seconds for day, v in days.items()} == {
        date(2026, 12, 14): 0.0,
        date(2026, 12, 15): 90.0,
    }


def test_peer_benchmarks_against_everyone_active(summary: ProjectSummary) -> None:
    ann = peer_benchmarks(summary, ANN)
    rate = 90 / (330 / 3600)
    per_hour = ann["shapes_per_hour"]
    assert per_hour.value == pytest.approx(rate)
    assert per_hour.median == pytest.approx((rate + 360) / 2)
    assert per_hour.top_quartile == pytest.approx(360 + 0.75 * (rate - 360))
    assert per_hour.percentile == 75.0  # beats abe, ties with herself
    # This week 70 shapes in 210 s (1200/h), the week before 20 in 120 s (600/h).
    assert per_hour.trend == pytest.approx(2.0)
    seconds = ann["seconds_per_shape"]
    assert seconds.value == pytest.approx(330 / 90)
    assert seconds.percentile == 75.0
    assert seconds.top_quartile == pytest.approx(330 / 90 + 0.25 * (10 - 330 / 90))
    assert seconds.trend == pytest.approx(3.0 / 6.0)
    assert ann["shapes_per_euro"].median == pytest.approx((rate + 360) / 2 / 25)
    abe = peer_benchmarks(summary, ABE)
    assert abe["shapes_per_hour"].percentile == 25.0
    assert abe["shapes_per_hour"].trend is None  # nothing the week before
    meg = peer_benchmarks(summary, MEG)["shapes_per_hour"]
    assert meg.value is None and meg.percentile is None
    assert meg.median == pytest.approx((rate + 360) / 2)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        summarise_events(
            [ActivityEvent(datetime(2026, 12, 14), ANN, "x")], [], idle_seconds=1, hourly_cost_eur=1, now=NOW
        )


def test_each_person_costs_their_own_rate() -> None:
    # ann's hour costs 40 EUR, abe's the project's 25: the team pays 330 s at 40 and 100 s at 25.
    summary = summarise_events(EVENTS, DELIVERIES, idle_seconds=120.0, hourly_cost_eur=25.0, now=NOW)
    assert summary.team.shapes_per_euro == pytest.approx(100 / (430 / 3600 * 25))
    own_rates = summarise(
        digest(bucket_events(EVENTS, 120.0)[0]),
        work_of(DELIVERIES),
        hourly_cost_eur=25.0,
        today=NOW.date(),
        costs={ANN: 40.0},
    )
    assert own_rates.person(ANN).totals.shapes_per_euro == pytest.approx(90 / (330 / 3600 * 40))
    assert own_rates.person(ABE).totals.shapes_per_euro == pytest.approx(10 / (100 / 3600 * 25))
    assert own_rates.team.shapes_per_euro == pytest.approx(100 / (330 / 3600 * 40 + 100 / 3600 * 25))
    assert own_rates.person(ANN).totals.shapes_per_hour == summary.person(ANN).totals.shapes_per_hour
