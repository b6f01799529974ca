"""The KPIs of every person and of the team: in total, per day, per class and for the last two weeks.

Days are UTC calendar days; active time belongs to the day of the event that ends its gap, shapes to
the day their task was submitted, review decisions to the day they were made. "This week" is the 7
days up to and including ``today`` and "the week before" the 7 days before those. The team's numbers
are sums over its people (reviewers' time included), so team rates weigh each person by their time.
A class's active time is the time that ended in events on tracks of that class.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from labelpilot.kpi.buckets import bucket_events, digest, utc_day, work_of
from labelpilot.kpi.peers import HIGHER_IS_BETTER, PeerBenchmark, median, peer_benchmark
from labelpilot.kpi.records import (
    ActivityDigest,
    ActivityEvent,
    DeliveredWork,
    Delivery,
    ReviewDecision,
)
from labelpilot.kpi.tally import KpiValues, Tally, kpi_values

WEEK_DAYS = 7
Key = TypeVar("Key", date, str)


@dataclass
class _PeriodTallies:
    today: date
    total: Tally = field(default_factory=Tally)
    days: defaultdict[date, Tally] = field(default_factory=lambda: defaultdict(Tally))
    classes: defaultdict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    this_week: Tally = field(default_factory=Tally)
    last_week: Tally = field(default_factory=Tally)

    def periods(self, day: date, label: str | None) -> list[Tally]:
        periods = [self.total, self.days[day]]
        age = (self.today - day).days
        if 0 <= age < WEEK_DAYS:
            periods.append(self.this_week)
        elif WEEK_DAYS <= age < 2 * WEEK_DAYS:
            periods.append(self.last_week)
        if label:
            periods.append(self.classes[label])
        return periods


@dataclass(frozen=True)
class PersonSummary:
    user_id: int
    totals: KpiValues
    days: dict[date, KpiValues]
    classes: dict[str, KpiValues]
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
    team_classes: dict[str, KpiValues]
    seconds_by_action: dict[str, float]
    hourly_cost_eur: float

    def person(self, user_id: int) -> PersonSummary:
        """The person's summary; an empty one for someone without any activity in the project."""
        found = self.people.get(user_id)
        if found is not None:
            return found
        empty = kpi_values(Tally())
        return PersonSummary(user_id, empty, {}, {}, empty, empty)


def _team_seconds_by_action(action_seconds: Mapping[tuple[int, str], float]) -> dict[str, float]:
    """Event kind -> the team's active seconds, largest first."""
    totals: dict[str, float] = defaultdict(float)
    for (_, kind), seconds in action_seconds.items():
        totals[kind] += seconds
    return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


def summarise(
    activity: ActivityDigest,
    work: Iterable[DeliveredWork],
    reviews: Iterable[ReviewDecision] = (),
    *,
    hourly_cost_eur: float,
    today: date,
    people: Iterable[int] = (),
    costs: Mapping[int, float] | None = None,
) -> ProjectSummary:
    """Every person's KPIs (those in ``people`` too, even without any activity) and the team's. An hour
    of a person costs ``costs[person]`` where given, else ``hourly_cost_eur``."""
    costs = costs or {}
    tallies: dict[int, _PeriodTallies] = {user_id: _PeriodTallies(today) for user_id in people}

    def own(user_id: int) -> _PeriodTallies:
        found = tallies.get(user_id)
        if found is None:
            found = tallies[user_id] = _PeriodTallies(today)
        return found

    for spent_on_day in activity.days:
        rate = costs.get(spent_on_day.user_id, hourly_cost_eur)
        for tally in own(spent_on_day.user_id).periods(spent_on_day.day, None):
            tally.add_day(spent_on_day, rate)
    for (user_id, label), seconds in activity.class_seconds.items():
        rate = costs.get(user_id, hourly_cost_eur)
        own(user_id).classes[label].add_time(seconds, rate)
    for delivered in work:
        for tally in own(delivered.user_id).periods(delivered.day, delivered.label):
            tally.add_work(delivered)
    for decision in reviews:
        for tally in own(decision.user_id).periods(decision.day, None):
            tally.add_review(decision)
    team, team_days, team_classes = Tally(), defaultdict[date, Tally](Tally), defaultdict[str, Tally](Tally)
    for person in tallies.values():
        team.add(person.total)
        for day, tally in person.days.items():
            team_days[day].add(tally)
        for label, tally in person.classes.items():
            team_classes[label].add(tally)

    def values(tally: Tally) -> KpiValues:
        return kpi_values(tally)

    def by_key(tallies_by: Mapping[Key, Tally]) -> dict[Key, KpiValues]:
        return {key: values(tally) for key, tally in sorted(tallies_by.items())}

    return ProjectSummary(
        people={
            user_id: PersonSummary(
                user_id,
                values(p.total),
                by_key(p.days),
                by_key(p.classes),
                values(p.this_week),
                values(p.last_week),
            )
            for user_id, p in tallies.items()
        },
        team=values(team),
        team_days=by_key(team_days),
        team_classes=by_key(team_classes),
        seconds_by_action=_team_seconds_by_action(activity.action_seconds),
        hourly_cost_eur=hourly_cost_eur,
    )


def summarise_events(
    events: Iterable[ActivityEvent],
    deliveries: Iterable[Delivery],
    *,
    idle_seconds: float,
    hourly_cost_eur: float,
    now: datetime,
    people: Iterable[int] = (),
) -> ProjectSummary:
    """``summarise`` straight from events and delivered tracks (what the rollups must agree with)."""
    buckets, _ = bucket_events(events, idle_seconds)
    return summarise(
        digest(buckets),
        work_of(deliveries),
        hourly_cost_eur=hourly_cost_eur,
        today=utc_day(now),
        people=people,
    )


def _kpi(values: KpiValues, name: str) -> float | None:
    value: float | int | None = getattr(values, name)
    return None if value is None else float(value)


def peer_values(summary: ProjectSummary, peers: Iterable[int] | None = None) -> dict[str, list[float]]:
    """For each benchmarked KPI, its values over the peers with active time (everyone when None)."""
    group = summary.people if peers is None else set(peers)
    active = [p for p in summary.people.values() if p.active and p.user_id in group]
    return {name: [v for p in active if (v := _kpi(p.totals, name)) is not None] for name in HIGHER_IS_BETTER}


def peer_benchmarks(
    summary: ProjectSummary,
    user_id: int,
    peers: Iterable[int] | None = None,
    values: Mapping[str, list[float]] | None = None,
) -> dict[str, PeerBenchmark]:
    """The person against their peers with active time (``peers``: everyone in the project when None;
    the person is always among them), for each benchmarked KPI. ``values``: ``peer_values`` of a group
    the person belongs to, computed once for many people."""
    me = summary.person(user_id)
    if values is None:
        values = peer_values(summary, None if peers is None else {*peers, user_id})
    return {
        name: peer_benchmark(
            _kpi(me.totals, name),
            values[name],
            higher_is_better,
            _kpi(me.this_week, name),
            _kpi(me.last_week, name),
        )
        for name, higher_is_better in HIGHER_IS_BETTER.items()
    }


def daily_team_median(
    summary: ProjectSummary, name: str, peers: Iterable[int] | None = None
) -> dict[date, float | None]:
    """Per day: the median of the KPI over the peers (everyone when None) active that day."""
    group = summary.people if peers is None else set(peers)
    medians: dict[date, float | None] = {}
    for day in summary.team_days:
        values = [
            v
            for p in summary.people.values()
            if p.user_id in group
            and (own := p.days.get(day)) is not None
            and own.active_seconds > 0
            and (v := _kpi(own, name)) is not None
        ]
        medians[day] = median(values)
    return medians
