"""Rates from sums, and the peer benchmark statistics, computed by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from labelpilot.kpi.buckets import work_of
from labelpilot.kpi.peers import (
    median,
    peer_benchmark,
    peer_labels,
    percentile_rank,
    quantile,
    top_quartile,
    trend,
)
from labelpilot.kpi.records import DayActivity, Delivery, ReviewDecision
from labelpilot.kpi.tally import KPI_FIELDS, Tally, kpi_values

AT = datetime(2026, 12, 14, 10, 0, tzinfo=UTC)
DAY = date(2026, 12, 14)


def _delivery(shapes: int, kind: str, *, stationary: bool = False) -> Delivery:
    return Delivery(
        1, AT, task_id=3, track_id=shapes, shapes=shapes, provenance_kind=kind, stationary=stationary
    )


def test_rates_of_a_period() -> None:
    tally = Tally()
    tally.add_day(DayActivity(1, DAY, 250.0, events=3, nudges_shown=1, nudges_followed=1), 25.0)
    deliveries = [
        _delivery(30, "candidate"),
        _delivery(12, "manual", stationary=True),
        _delivery(8, "imported"),
    ]
    for work in work_of(deliveries):
        tally.add_work(work)
    for accepted in (True, True, False):
        tally.add_review(ReviewDecision(1, DAY, 3, accepted))
    values = kpi_values(tally)
    # 50 shapes in 250 s: 720 shapes an hour, 5 s a shape; an hour costs 25 EUR, so 28.8 shapes a EUR.
    assert values.to_json() == {
        "active_seconds": 250.0,
        "shapes": 50,
        "shapes_per_hour": pytest.approx(720.0),
        "seconds_per_shape": pytest.approx(5.0),
        "shapes_per_euro": pytest.approx(28.8),
        "candidates_confirmed": 1,
        "tracks_drawn": 1,
        "stationary_tracks": 1,
        "nudges_shown": 1,
        "nudges_followed": 1,
        "tasks_accepted": 2,
        "tasks_rejected": 1,
        "acceptance_rate": pytest.approx(2 / 3),
    }
    assert tuple(values.to_json()) == KPI_FIELDS


def test_rates_without_a_denominator_are_undefined_not_zero() -> None:
    idle = kpi_values(Tally())
    assert (idle.shapes_per_hour, idle.seconds_per_shape, idle.shapes_per_euro) == (None, None, None)
    assert idle.acceptance_rate is None  # nothing reviewed
    no_shapes = kpi_values(Tally(active_seconds=360.0, cost_eur=2.5))
    assert (no_shapes.shapes_per_hour, no_shapes.seconds_per_shape, no_shapes.shapes_per_euro) == (
        0.0,
        None,
        0.0,
    )
    # Shapes whose time was never measured (a lone event) are not infinitely fast.
    unmeasured = kpi_values(Tally(shapes=40))
    assert (unmeasured.shapes_per_hour, unmeasured.seconds_per_shape) == (None, None)
    free = kpi_values(Tally(active_seconds=360.0, shapes=4))  # nobody's time costs anything
    assert free.shapes_per_hour == pytest.approx(40.0)
    assert free.shapes_per_euro is None


def test_quantiles_interpolate_between_the_closest_ranks() -> None:
    values = [40.0, 10.0, 30.0, 20.0]
    assert median(values) == 25.0
    assert quantile(values, 0.75) == 32.5  # rank 2.25: 30 + 0.25 * (40 - 30)
    assert top_quartile(values, higher_is_better=True) == 32.5
    assert top_quartile(values, higher_is_better=False) == 17.5  # rank 0.75: 10 + 0.75 * 10
    assert median([7.0]) == 7.0 and quantile([7.0], 0.75) == 7.0
    assert median([]) is None
    with pytest.raises(ValueError):
        quantile(values, 1.5)


def test_percentile_rank_counts_the_values_beaten_and_half_the_ties() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert percentile_rank(30.0, values, higher_is_better=True) == 62.5  # (2 + 0.5) / 4
    assert percentile_rank(30.0, values, higher_is_better=False) == 37.5  # (1 + 0.5) / 4
    assert percentile_rank(40.0, values, higher_is_better=True) == 87.5
    assert percentile_rank(20.0, [20.0, 20.0], higher_is_better=True) == 50.0
    assert percentile_rank(None, values, higher_is_better=True) is None
    assert percentile_rank(5.0, [], higher_is_better=True) is None


def test_trend_is_this_week_over_the_week_before() -> None:
    assert trend(30.0, 20.0) == 1.5
    assert trend(0.0, 20.0) == 0.0
    assert trend(30.0, 0.0) is None
    assert trend(None, 20.0) is None and trend(30.0, None) is None


def test_a_peer_benchmark_puts_it_together() -> None:
    benchmark = peer_benchmark(30.0, [10.0, 20.0, 30.0, 40.0], True, this_week=12.0, last_week=8.0)
    assert benchmark.to_json() == {
        "value": 30.0,
        "median": 25.0,
        "top_quartile": 32.5,
        "percentile": 62.5,
        "trend": 1.5,
    }


def test_peers_are_anonymised_unless_names_are_shown_and_the_viewer_sees_their_own_name() -> None:
    names = {1: "ann", 2: "abe", 3: "cy"}
    assert peer_labels([3, 1, 2], 1, names, show_names=False) == {3: "peer 1", 1: "ann", 2: "peer 2"}
    assert peer_labels([3, 1, 2], 1, names, show_names=True) == {3: "cy", 1: "ann", 2: "abe"}
    assert peer_labels([3, 2], 9, names, show_names=False) == {3: "peer 1", 2: "peer 2"}
