"""The KPIs of every person and of the team: in total, per day and for the last two weeks.

Days are UTC calendar days; active time belongs to the day of the event that ends its gap, shapes to
the day their task was submitted. "This week" is the 7 days up to ``now`` and "the week before" the 7
days before those (rolling windows, so that a Monday morning is not compared with a whole week).
The team's numbers are sums over its people, so team rates weigh each person by their time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from labelpilot.kpi.active_time import ActiveSpan, attribute_active_time, seconds_by_action
from labelpilot.kpi.peers import HIGHER_IS_BETTER, PeerBenchmark, median, peer_benchmark
from labelpilot.kpi.records import ActivityEvent, Delivery
from labelpilot.kpi.tally import KpiValues, Tally, kpi_values

WEEK = timedelta(days=7)


def utc_day(at: datetime) -> date:
    if at.tzinfo is None:
        raise ValueError("KPI times must be timezone-aware")
    return at.astimezone(UTC).date()


@dataclass
class _PeriodTallies:
    total: Tally = field(default_factory=Tally)
    days: defaultdict[date, Tally] = field(default_factory=lambda: defaultdict(Tally))
    this_week: Tally = field(default_factory=Tally)
    last_week: Tally = field(default_factory=Tally)

    def _periods(self, at: datetime, now: datetime) -> list[Tally]:
        periods = [self.total, self.days[utc_day(at)]]
        if now - WEEK < at <= now:
            periods.append(self.this_week)
        elif now - 2 * WEEK < at <= now - WEEK:
            periods.append(self.last_week)
        return periods

    def add_span(self, span: ActiveSpan, now: datetime) -> None:
        for tally in self._periods(span.event.at, now):
            tally.add_span(span)

    def add_delivery(self, delivery: Delivery, now: datetime) -> None:
        for tally in self._periods(delivery.at, now):
            tally.add_delivery(delivery)


@dataclass(frozen=True)
class PersonSummary:
    user_id: int
    totals: KpiValues
    days: dict[date, KpiValues]
    this_week: KpiValues
    last_week: KpiValues

    @property
    def active(self) -> bool:
        return self.totals.active_seconds > 0


@dataclass(frozen=True)
class ProjectSummary:
    people: dict[int, PersonSummary]
    team: KpiValues
    team_days: dict[date, KpiValues]
    seconds_by_action: dict[str, float]
    hourly_cost_eur: float

    def person(self, user_id: int) -> PersonSummary:
        """The person's summary; an empty one for someone without any activity in the project."""
        found = self.people.get(user_id)
        if found is not None:
            return found
        empty = kpi_values(Tally(), self.hourly_cost_eur)
        return PersonSummary(user_id, empty, {}, empty, empty)


def summarise(
    events: Iterable[ActivityEvent],
    deliveries: Iterable[Delivery],
    *,
    idle_seconds: float,
    hourly_cost_eur: float,
    now: datetime,
    people: Iterable[int] = (),
) -> ProjectSummary:
    """Every person's KPIs (those in ``people`` too, even without any activity) and the team's."""
    tallies = defaultdict(_PeriodTallies, {user_id: _PeriodTallies() for user_id in people})
    spans = attribute_active_time(events, idle_seconds)
    for span in spans:
        tallies[span.event.user_id].add_span(span, now)
    for delivery in deliveries:
        tallies[delivery.user_id].add_delivery(delivery, now)
    team = Tally()
    team_days: defaultdict[date, Tally] = defaultdict(Tally)
    for own in tallies.values():
        team.add(own.total)
        for day, tally in own.days.items():
            team_days[day].add(tally)

    def values(tally: Tally) -> KpiValues:
        return kpi_values(tally, hourly_cost_eur)

    return ProjectSummary(
        people={
            user_id: PersonSummary(
                user_id,
                values(own.total),
                {day: values(t) for day, t in sorted(own.days.items())},
                values(own.this_week),
                values(own.last_week),
            )
            for user_id, own in tallies.items()
        },
        team=values(team),
        team_days={day: values(t) for day, t in sorted(team_days.items())},
        seconds_by_action=seconds_by_action(spans),
        hourly_cost_eur=hourly_cost_eur,
    )


def _kpi(values: KpiValues, name: str) -> float | None:
    value: float | int | None = getattr(values, name)
    return None if value is None else float(value)


def peer_benchmarks(summary: ProjectSummary, user_id: int) -> dict[str, PeerBenchmark]:
    """The person against everyone in the project with active time, for each benchmarked KPI."""
    me = summary.person(user_id)
    active = [p for p in summary.people.values() if p.active]
    benchmarks: dict[str, PeerBenchmark] = {}
    for name, higher_is_better in HIGHER_IS_BETTER.items():
        team_values = [v for p in active if (v := _kpi(p.totals, name)) is not None]
        benchmarks[name] = peer_benchmark(
            _kpi(me.totals, name),
            team_values,
            higher_is_better,
            _kpi(me.this_week, name),
            _kpi(me.last_week, name),
        )
    return benchmarks


def daily_team_median(summary: ProjectSummary, name: str) -> dict[date, float | None]:
    """Per day: the median of the KPI over the people active that day."""
    medians: dict[date, float | None] = {}
    for day in summary.team_days:
        values = [
            v
            for p in summary.people.values()
            if (own := p.days.get(day)) is not None
            and own.active_seconds > 0
            and (v := _kpi(own, name)) is not None
        ]
        medians[day] = median(values)
    return medians
