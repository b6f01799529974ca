"""Sums over a period (active time, shapes, adoption counts) and the rates derived from them.

Rates are undefined (None), never zero, when there is nothing to divide by: shapes per hour without
active time, seconds per shape without shapes or without active time (time that was not measured is
not fast), shapes per Euro without active time or without a cost.
"""

from __future__ import annotations

from dataclasses import dataclass

from labelpilot.kpi.records import DayActivity, DeliveredWork, ReviewDecision

SECONDS_PER_HOUR = 3600.0
NUDGE_SHOWN = "nudge_shown"
NUDGE_FOLLOWED = "nudge_followed"
FROM_CANDIDATE = "candidate"
DRAWN = "manual"

KpiJson = dict[str, float | int | None]


@dataclass
class Tally:
    """What a person or a team did in a period, as plain sums."""

    active_seconds: float = 0.0
    cost_eur: float = 0.0
    """the active time priced at each person's hourly cost"""
    shapes: int = 0
    candidates_confirmed: int = 0
    """delivered tracks that came from automation (confirmed candidates)"""
    tracks_drawn: int = 0
    """delivered tracks a person drew"""
    stationary_tracks: int = 0
    nudges_shown: int = 0
    nudges_followed: int = 0

    tasks_accepted: int = 0
    """review decisions on the person's tasks: accepted ..."""
    tasks_rejected: int = 0
    """... and sent back"""

    def add_time(self, seconds: float, hourly_cost_eur: float) -> None:
        self.active_seconds += seconds
        self.cost_eur += seconds / SECONDS_PER_HOUR * hourly_cost_eur

    def add_day(self, day: DayActivity, hourly_cost_eur: float) -> None:
        self.add_time(day.seconds, hourly_cost_eur)
        self.nudges_shown += day.nudges_shown
        self.nudges_followed += day.nudges_followed

    def add_work(self, work: DeliveredWork) -> None:
        self.shapes += work.shapes
        self.candidates_confirmed += work.candidates_confirmed
        self.tracks_drawn += work.tracks_drawn
        self.stationary_tracks += work.stationary_tracks

    def add_review(self, decision: ReviewDecision) -> None:
        self.tasks_accepted += int(decision.accepted)
        self.tasks_rejected += int(not decision.accepted)

    def add(self, other: Tally) -> None:
        for name in TALLY_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


TALLY_FIELDS = tuple(Tally.__dataclass_fields__)


@dataclass(frozen=True)
class KpiValues:
    """The KPIs of one person or team over one period."""

    active_seconds: float
    shapes: int
    shapes_per_hour: float | None
    seconds_per_shape: float | None
    shapes_per_euro: float | None
    candidates_confirmed: int
    tracks_drawn: int
    stationary_tracks: int
    nudges_shown: int
    nudges_followed: int
    tasks_accepted: int
    tasks_rejected: int
    acceptance_rate: float | None
    """accepted / (accepted + rejected) review decisions: the quality KPI while review is the only judge"""

    def to_json(self) -> KpiJson:
        # Not dataclasses.asdict: it deep-copies every number, and a dashboard serialises thousands.
        return {name: getattr(self, name) for name in KPI_FIELDS}


KPI_FIELDS = tuple(KpiValues.__dataclass_fields__)
"""The KPI names in the order the API and the CSV export list them."""


def kpi_values(tally: Tally) -> KpiValues:
    hours = tally.active_seconds / SECONDS_PER_HOUR
    cost = tally.cost_eur
    return KpiValues(
        active_seconds=tally.active_seconds,
        shapes=tally.shapes,
        shapes_per_hour=tally.shapes / hours if hours > 0 else None,
        seconds_per_shape=tally.active_seconds / tally.shapes if tally.shapes > 0 and hours > 0 else None,
        shapes_per_euro=tally.shapes / cost if cost > 0 else None,
        candidates_confirmed=tally.candidates_confirmed,
        tracks_drawn=tally.tracks_drawn,
        stationary_tracks=tally.stationary_tracks,
        nudges_shown=tally.nudges_shown,
        nudges_followed=tally.nudges_followed,
        tasks_accepted=tally.tasks_accepted,
        tasks_rejected=tally.tasks_rejected,
        acceptance_rate=tally.tasks_accepted / reviewed if (reviewed := decided(tally)) > 0 else None,
    )


def decided(tally: Tally) -> int:
    return tally.tasks_accepted + tally.tasks_rejected
