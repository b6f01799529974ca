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

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from labelpilot.kpi.buckets import bucket_events
from labelpilot.kpi.records import ActivityBucket, ActivityEvent
from labelpilot.services import kpi_deliveries
from labelpilot.services.kpi_deliveries import as_utc
from labelpilot.store.kpi_tables import NO_LABEL, NO_TASK, KpiActivity, KpiCursor, KpiRollupState
from labelpilot.store.tables import EventRow, TrackRow

SETTLE = timedelta(seconds=60)
STEP = timedelta(seconds=30)
BATCH = 50_000
"""events bucketed at once while rolling up (bounds the memory of a rebuild)"""


def _insert(session: Session, table: Any) -> Any:
    """An INSERT that can say ON CONFLICT on both of our database engines."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


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


def _store(session: Session, project_id: int, buckets: Sequence[ActivityBucket]) -> None:
    if not buckets:
        return
    table = KpiActivity.__table__
    statement = _insert(session, table)
    statement = statement.on_conflict_do_update(
        index_elements=["project_id", "user_id", "day", "task_id", "kind", "label"],
        set_={
            "seconds": table.c.seconds + statement.excluded.seconds,
            "events": table.c.events + statement.excluded.events,
        },
    )
    session.execute(
        statement,
        [
            {
                "project_id": project_id,
                "user_id": b.user_id,
                "day": b.day,
                "task_id": NO_TASK if b.task_id is None else b.task_id,
                "kind": b.kind,
                "label": b.label or NO_LABEL,
                "seconds": b.seconds,
                "events": b.events,
            }
            for b in buckets
        ],
    )


def _store_cursors(session: Session, project_id: int, latest: dict[int, datetime]) -> None:
    if not latest:
        return
    statement = _insert(session, KpiCursor.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["project_id", "user_id"], set_={"last_at": statement.excluded.last_at}
    )
    session.execute(
        statement, [{"project_id": project_id, "user_id": u, "last_at": at} for u, at in latest.items()]
    )


def _roll(
    session: Session, project_id: int, idle_seconds: float, since: datetime | None, until: datetime
) -> None:
    latest = cursors(session, project_id)
    for events in _batches(_event_rows(session, project_id, since, until)):
        buckets, latest = bucket_events(events, idle_seconds, latest)
        # Rows of one batch may share a key with earlier ones: merged in the database.
        _store(session, project_id, buckets)
    _store_cursors(session, project_id, latest)


def rebuild(session: Session, project_id: int, *, idle_seconds: float, now: datetime) -> datetime:
    """Every rollup of the project computed again from the event log, the tracks and the tasks."""
    until = now - SETTLE
    session.execute(delete(KpiActivity).where(KpiActivity.project_id == project_id))
    session.execute(delete(KpiCursor).where(KpiCursor.project_id == project_id))
    session.execute(delete(KpiRollupState).where(KpiRollupState.project_id == project_id))
    session.add(KpiRollupState(project_id=project_id, through_at=until, idle_seconds=idle_seconds))
    session.flush()
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


def rolled_up(session: Session, project_id: int) -> list[ActivityBucket]:
    rows = session.execute(
        select(
            KpiActivity.user_id,
            KpiActivity.day,
            KpiActivity.task_id,
            KpiActivity.kind,
            KpiActivity.label,
            KpiActivity.seconds,
            KpiActivity.events,
        ).where(KpiActivity.project_id == project_id)
    ).all()
    return [
        ActivityBucket(
            user_id, day, None if task_id == NO_TASK else task_id, kind, label or None, seconds, events
        )
        for user_id, day, task_id, kind, label, seconds, events in rows
    ]


def live_tail(
    session: Session, project_id: int, *, idle_seconds: float, since: datetime
) -> list[ActivityBucket]:
    """The buckets of the events not rolled up yet (not stored)."""
    latest = cursors(session, project_id)
    tail: list[ActivityBucket] = []
    for events in _batches(_event_rows(session, project_id, since, None)):
        buckets, latest = bucket_events(events, idle_seconds, latest)
        tail.extend(buckets)
    return tail
