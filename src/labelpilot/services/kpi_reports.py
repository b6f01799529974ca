"""The KPI answers of the API: a person's own dashboard, the team view and its CSV export.

Any member (and any administrator) sees their own KPIs beside the team's median, top quartile and
their percentile. Reviewers, coaches, managers and administrators see the team view; managers and
administrators see everyone's name there, the others see their own name and "peer 1", "peer 2", ...
unless the project shows peer names (``show_peer_names``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from labelpilot.kpi.buckets import utc_day
from labelpilot.kpi.peers import peer_labels
from labelpilot.kpi.summary import (
    ProjectSummary,
    daily_team_median,
    peer_benchmarks,
    peer_values,
    summarise,
)
from labelpilot.kpi.tally import KPI_FIELDS, KpiValues
from labelpilot.services.actors import ALL_ROLES, STAFF, Actor, Role, require_role
from labelpilot.services.errors import InvalidError
from labelpilot.services.kpi_activity import ProjectActivity, load_project_activity
from labelpilot.store.tables import utcnow

NAME_VIEWERS = frozenset({Role.MANAGER})
"""Roles that always see who is who in the team view (administrators do too)."""


@dataclass(frozen=True)
class KpiSnapshot:
    """A project's activity and its KPIs at one moment, with the figures every annotator is compared
    with (computed once for all the dashboards that read the snapshot)."""

    activity: ProjectActivity
    summary: ProjectSummary

    @cached_property
    def annotators(self) -> frozenset[int]:
        return frozenset(self.activity.annotators)

    @cached_property
    def peer_values(self) -> dict[str, list[float]]:
        return peer_values(self.summary, self.annotators)

    @cached_property
    def daily_medians(self) -> dict[date, float | None]:
        return daily_team_median(self.summary, "shapes_per_hour", self.annotators)


def take_snapshot(
    session: Session, project_id: int, *, idle_seconds: float, now: datetime | None = None
) -> KpiSnapshot:
    """The project's KPIs now (the caller checks access)."""
    now = now or utcnow()
    activity = load_project_activity(session, project_id, idle_seconds=idle_seconds, now=now)
    summary = summarise(
        activity.digest,
        activity.work,
        activity.reviews,
        hourly_cost_eur=activity.hourly_cost_eur,
        today=utc_day(now),
        people=activity.people,
        costs=activity.costs,
    )
    return KpiSnapshot(activity, summary)


def _day_rows(
    days: dict[date, KpiValues], extra: dict[date, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    return [
        {"day": day.isoformat(), **values.to_json(), **(extra or {}).get(day, {})}
        for day, values in days.items()
    ]


def _class_rows(classes: dict[str, KpiValues]) -> list[dict[str, Any]]:
    """Per object class; its active time is the time spent in events on tracks of the class."""
    return [{"label": label, **values.to_json()} for label, values in classes.items()]


def _task_seconds(snapshot: KpiSnapshot, user_id: int) -> dict[int, float]:
    by_task = snapshot.activity.digest.task_seconds
    return {task: seconds for (user, task), seconds in sorted(by_task.items()) if user == user_id}


def personal_kpis(snapshot: KpiSnapshot, actor: Actor) -> dict[str, Any]:
    """The actor's own KPIs in total, per day and per task, and how they compare with the team."""
    me = snapshot.summary.person(actor.user_id)
    medians = snapshot.daily_medians
    # Someone who is no annotator (a manager looking at their own numbers) is compared with the
    # annotators and themselves.
    values = snapshot.peer_values if actor.user_id in snapshot.annotators else None
    benchmarks = peer_benchmarks(snapshot.summary, actor.user_id, snapshot.annotators, values)
    return {
        "user": actor.name,
        "project_id": snapshot.activity.project_id,
        "hourly_cost_eur": snapshot.activity.hourly_cost_eur,
        "totals": me.totals.to_json(),
        "days": _day_rows(
            me.days, {day: {"team_median_shapes_per_hour": median} for day, median in medians.items()}
        ),
        "classes": _class_rows(me.classes),
        "peers": {name: b.to_json() for name, b in benchmarks.items()},
        "tasks": [
            {"task_id": task_id, "active_seconds": seconds}
            for task_id, seconds in _task_seconds(snapshot, actor.user_id).items()
        ],
    }


def _ranked_people(summary: ProjectSummary, people: list[int]) -> list[int]:
    """Fastest first (shapes per hour, then shapes), so that "peer N" says nothing about who joined when."""

    def key(user_id: int) -> tuple[bool, float, int, int]:
        totals = summary.person(user_id).totals
        rate = totals.shapes_per_hour
        return (rate is None, -(rate or 0.0), -totals.shapes, user_id)

    return sorted(people, key=key)


def team_kpis(snapshot: KpiSnapshot, actor: Actor, role: Role | None) -> dict[str, Any]:
    """Everyone's KPIs (anonymised for those who may not see names), the team's, and where the time goes."""
    activity, summary = snapshot.activity, snapshot.summary
    order = _ranked_people(summary, activity.people)
    show_names = actor.is_admin or role in NAME_VIEWERS or activity.show_peer_names
    labels = peer_labels(order, actor.user_id, activity.names, show_names)
    return {
        "project_id": activity.project_id,
        "hourly_cost_eur": activity.hourly_cost_eur,
        "people": [
            {"user": labels[user_id], **summary.person(user_id).totals.to_json()} for user_id in order
        ],
        "people_days": [
            {"user": labels[user_id], **row}
            for user_id in order
            for row in _day_rows(summary.person(user_id).days)
        ],
        "team": summary.team.to_json(),
        "days": _day_rows(summary.team_days),
        "classes": _class_rows(summary.team_classes),
        "seconds_by_action": summary.seconds_by_action,
    }


def require_member(session: Session, actor: Actor, project_id: int) -> None:
    """Whoever may see their own KPIs in the project: its members and administrators."""
    require_role(session, actor, project_id, ALL_ROLES)


def my_kpis(
    session: Session, actor: Actor, project_id: int, *, idle_seconds: float, now: datetime | None = None
) -> dict[str, Any]:
    """``personal_kpis`` for any member of the project or administrator."""
    require_member(session, actor, project_id)
    return personal_kpis(take_snapshot(session, project_id, idle_seconds=idle_seconds, now=now), actor)


def project_kpis(
    session: Session, actor: Actor, project_id: int, *, idle_seconds: float, now: datetime | None = None
) -> dict[str, Any]:
    """``team_kpis`` for reviewers, coaches, managers and administrators."""
    role = require_role(session, actor, project_id, STAFF)
    snapshot = take_snapshot(session, project_id, idle_seconds=idle_seconds, now=now)
    return team_kpis(snapshot, actor, role)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet would run a cell starting with these as a formula."""


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


CSV_TABLES = {"people": ("user",), "people_days": ("user", "day"), "days": ("day",), "classes": ("label",)}
"""The tables of a ``team_kpis`` answer the CSV export offers, and the columns that name their rows."""


def team_csv(team: dict[str, Any], table: str = "people") -> str:
    """One table of a ``team_kpis`` answer as CSV (a header, then one row each; an undefined rate is an
    empty cell)."""
    keys = CSV_TABLES.get(table)
    if keys is None:
        raise InvalidError(f"no KPI table {table!r}; there are: {', '.join(CSV_TABLES)}", field="table")
    columns = (*keys, *KPI_FIELDS)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in team[table]:
        writer.writerow({name: _cell(row[name]) for name in columns})
    return out.getvalue()
