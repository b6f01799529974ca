"""Active time rolled up per person, day, task, event kind and class (``kpi_activity``), kept current
as KPIs are read.

Events younger than ``SETTLE`` are never rolled up: a transaction may still commit an event stamped a
moment ago, and a rollup past it would miss it for good. A read rolls up what has settled since the
last roll-up (when at least ``STEP`` has) and reads the rest, the last minute or two, live. One
transaction moves a project's ``through_at`` from a value to the next (compare and set), so two
readers never roll up the same events twice. Another idle threshold than the one the rollups were made
with, or none made yet, means a rebuild from the event log.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from labelpilot.kpi.buckets import bucket_events, digest
from labelpilot.kpi.records import ActivityBucket, ActivityDigest, ActivityEvent, DayActivity
from labelpilot.services import kpi_deliveries
from labelpilot.services.kpi_deliveries import as_utc
from labelpilot.services.upserts import upsert
from labelpilot.store.kpi_tables import (
    KpiActionTime,
    KpiClassTime,
    KpiCursor,
    KpiDay,
    KpiRollupState,
    KpiTaskTime,
)
from labelpilot.store.tables import EventRow, TrackRow

SETTLE = timedelta(seconds=60)
STEP = timedelta(seconds=30)
BATCH = 50_000
"""events bucketed at once while rolling up (bounds the memory of a rebuild)"""


def _event_rows(session: Session, project_id: int, since: datetime | None, until: datetime | None) -> Any:
    query = (
        select(EventRow.at, EventRow.user_id, EventRow.kind, EventRow.task_id, TrackRow.label)
        .outerjoin(TrackRow, TrackRow.id == EventRow.track_id)
        .where(EventRow.project_id == project_id, EventRow.user_id.is_not(None))
        .order_by(EventRow.at, EventRow.id)
    )
    if since is not None:
        query = query.where(EventRow.at >= since)
    if until is not None:
        query = query.where(EventRow.at < until)
    return session.execute(query.execution_options(yield_per=BATCH))


def _batches(rows: Any) -> Iterator[list[ActivityEvent]]:
    for part in rows.partitions(BATCH):
        yield [
            ActivityEvent(as_utc(at), user_id, kind, task_id, label)
            for at, user_id, kind, task_id, label in part
        ]


def cursors(session: Session, project_id: int) -> dict[int, datetime]:
    rows = session.execute(
        select(KpiCursor.user_id, KpiCursor.last_at).where(KpiCursor.project_id == project_id)
    ).all()
    return {user_id: as_utc(at) for user_id, at in rows}


def _store(session: Session, project_id: int, activity: ActivityDigest) -> None:
    p = {"project_id": project_id}
    upsert(
        session,
        KpiDay.__table__,
        ("project_id", "user_id", "day"),
        [
            {**p, "user_id": d.user_id, "day": d.day, "seconds": d.seconds, "events": d.events,
             "nudges_shown": d.nudges_shown, "nudges_followed": d.nudges_followed}
            for d in activity.days
        ],
        add=True,
    )  # fmt: skip
    for table, key, seconds in (
        (KpiClassTime.__table__, "label", activity.class_seconds),
        (KpiActionTime.__table__, "kind", activity.action_seconds),
        (KpiTaskTime.__table__, "task_id", activity.task_seconds),
    ):
        rows = [{**p, "user_id": user, key: k, "seconds": s} for (user, k), s in seconds.items()]
        upsert(session, table, ("project_id", "user_id", key), rows, add=True)


def _store_cursors(session: Session, project_id: int, latest: dict[int, datetime]) -> None:
    rows = [{"project_id": project_id, "user_id": u, "last_at": at} for u, at in latest.items()]
    upsert(session, KpiCursor.__table__, ("project_id", "user_id"), rows, add=False)


def _roll(
    session: Session, project_id: int, idle_seconds: float, since: datetime | None, until: datetime
) -> None:
    latest = cursors(session, project_id)
    for events in _batches(_event_rows(session, project_id, since, until)):
        buckets, latest = bucket_events(events, idle_seconds, latest)
        # A batch's rows may share keys with earlier ones: summed in the database.
        _store(session, project_id, digest(buckets))
    _store_cursors(session, project_id, latest)


def rebuild(session: Session, project_id: int, *, idle_seconds: float, now: datetime) -> datetime:
    """Every rollup of the project computed again from the event log, the tracks and the tasks."""
    until = now - SETTLE
    # The state row first: a concurrent rebuild waits here for the other to commit, and only then
    # deletes (and so sees) the rows the other wrote, instead of adding its own to them.
    state = {"project_id": project_id, "through_at": until, "idle_seconds": idle_seconds}
    upsert(session, KpiRollupState.__table__, ("project_id",), [state], add=False)
    for table in (KpiDay, KpiClassTime, KpiActionTime, KpiTaskTime, KpiCursor):
        session.execute(delete(table).where(table.project_id == project_id))
    _roll(session, project_id, idle_seconds, None, until)
    kpi_deliveries.rebuild(session, project_id)
    return until


def _claim(session: Session, project_id: int, state: KpiRollupState, target: datetime) -> bool:
    """Move ``through_at`` to ``target`` unless another transaction moved it first."""
    statement = (
        update(KpiRollupState)
        .where(
            KpiRollupState.project_id == project_id,
            KpiRollupState.through_at == state.through_at,
            KpiRollupState.idle_seconds == state.idle_seconds,
        )
        .values(through_at=target)
        .execution_options(synchronize_session=False)
    )
    return cast("CursorResult[Any]", session.execute(statement)).rowcount == 1


def bring_up_to_date(session: Session, project_id: int, *, idle_seconds: float, now: datetime) -> datetime:
    """Roll up what has settled; answers ``through_at``: the events from then on are to be read live."""
    state = session.get(KpiRollupState, project_id, populate_existing=True)
    if state is None or state.idle_seconds != idle_seconds:
        return rebuild(session, project_id, idle_seconds=idle_seconds, now=now)
    through = as_utc(state.through_at)
    target = now - SETTLE
    if target - through < STEP:
        return through
    if not _claim(session, project_id, state, target):
        session.expire(state)
        return as_utc(session.get_one(KpiRollupState, project_id, populate_existing=True).through_at)
    _roll(session, project_id, idle_seconds, through, target)
    return target


def rolled_up(session: Session, project_id: int) -> ActivityDigest:
    """The rollups of the project as they are stored."""
    days = session.execute(
        select(
            KpiDay.user_id,
            KpiDay.day,
            KpiDay.seconds,
            KpiDay.events,
            KpiDay.nudges_shown,
            KpiDay.nudges_followed,
        ).where(KpiDay.project_id == project_id)
    ).all()

    def seconds(table: Any, key: Any) -> dict[Any, float]:
        rows = session.execute(
            select(table.user_id, key, table.seconds).where(table.project_id == project_id)
        )
        return {(user, k): value for user, k, value in rows}

    return ActivityDigest(
        [DayActivity(*row) for row in days],
        seconds(KpiClassTime, KpiClassTime.label),
        seconds(KpiActionTime, KpiActionTime.kind),
        seconds(KpiTaskTime, KpiTaskTime.task_id),
    )


def live_tail(session: Session, project_id: int, *, idle_seconds: float, since: datetime) -> ActivityDigest:
    """The activity of the events not rolled up yet (read, not stored)."""
    latest = cursors(session, project_id)
    tail: list[ActivityBucket] = []
    for events in _batches(_event_rows(session, project_id, since, None)):
        buckets, latest = bucket_events(events, idle_seconds, latest)
        tail.extend(buckets)
    return digest(tail)
