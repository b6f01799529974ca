"""The delivered work and the review decisions behind the KPIs, kept in ``kpi_task_shapes`` and
``kpi_review_decisions`` as tasks change state.

Delivered work is the confirmed, live tracks in the layer of every annotate task that is submitted or
accepted (review and practice tasks deliver no shapes; their time still counts). Whenever a task
changes state, the delivered work of every task in its layer is computed again (a rework or a second
task in the same layer can move a track's credit from one task to another). Work changed outside the
services is picked up by a rebuild (``kpi_rollups.rebuild``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from labelpilot.kpi.buckets import utc_day, work_of
from labelpilot.kpi.deliveries import credit_deliveries, shape_count
from labelpilot.kpi.records import LayerTrack, SubmittedTask
from labelpilot.services.task_views import TaskKind, TaskState
from labelpilot.services.upserts import upsert
from labelpilot.store.kpi_tables import KpiReviewDecision, KpiTaskShapes
from labelpilot.store.tables import EventRow, LayerRow, TaskRow, TrackRow
from labelpilot.tracks import TrackStatus

DELIVERED_STATES = (TaskState.SUBMITTED.value, TaskState.ACCEPTED.value)
SUBMITTED_EVENT = "task_submitted"
REVIEW_EVENTS = {"task_accepted": True, "task_rejected": False}


def as_utc(at: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _submitted_tasks(session: Session, project_id: int, scene_id: int, layer: str) -> list[SubmittedTask]:
    tasks = session.execute(
        select(TaskRow.id, TaskRow.assignee_id, TaskRow.updated_at).where(
            TaskRow.project_id == project_id,
            TaskRow.scene_id == scene_id,
            TaskRow.layer == layer,
            TaskRow.kind == TaskKind.ANNOTATE.value,
            TaskRow.state.in_(DELIVERED_STATES),
        )
    ).all()
    if not tasks:
        return []
    submissions: dict[int, tuple[int | None, datetime]] = {}
    for task_id, user_id, at in session.execute(
        select(EventRow.task_id, EventRow.user_id, EventRow.at)
        .where(EventRow.kind == SUBMITTED_EVENT, EventRow.task_id.in_([t.id for t in tasks]))
        .order_by(EventRow.id)
    ).all():
        if task_id is not None:
            submissions[task_id] = (user_id, at)  # the last submission wins (after a rework)
    submitted: list[SubmittedTask] = []
    for task_id, assignee_id, updated_at in tasks:
        # Without a submission event (not made through the services), the assignee delivered it
        # when the task last changed.
        user_id, at = submissions.get(task_id, (assignee_id, updated_at))
        if user_id is not None:
            submitted.append(SubmittedTask(task_id, scene_id, layer, user_id, as_utc(at)))
    return submitted


def _layer_tracks(session: Session, scene_id: int, layer: str) -> list[LayerTrack]:
    rows = session.execute(
        select(
            TrackRow.id,
            TrackRow.first_frame,
            TrackRow.last_frame,
            TrackRow.absent_frames,
            TrackRow.stationary_pose,
            TrackRow.provenance_kind,
            TrackRow.label,
        )
        .join(LayerRow, LayerRow.id == TrackRow.layer_id)
        .where(
            LayerRow.scene_id == scene_id,
            LayerRow.name == layer,
            TrackRow.status == TrackStatus.CONFIRMED.value,
            TrackRow.deleted.is_(False),
        )
    ).all()
    return [
        LayerTrack(
            track_id=track_id,
            scene_id=scene_id,
            layer=layer,
            shapes=shape_count(first, last, absent or []),
            provenance_kind=provenance,
            stationary=stationary_pose is not None,
            label=label,
        )
        for track_id, first, last, absent, stationary_pose, provenance, label in rows
    ]


def _last_task_of_track(session: Session, tasks: Iterable[SubmittedTask]) -> dict[int, int]:
    last: dict[int, int] = {}
    for track_id, task_id in session.execute(
        select(EventRow.track_id, EventRow.task_id)
        .where(EventRow.task_id.in_([t.task_id for t in tasks]), EventRow.track_id.is_not(None))
        .order_by(EventRow.id)
    ).all():
        if track_id is not None and task_id is not None:
            last[track_id] = task_id
    return last


def refresh_layer(session: Session, project_id: int, scene_id: int, layer: str) -> None:
    """Compute again what every submitted task of the layer delivered."""
    layer_tasks = select(TaskRow.id).where(
        TaskRow.project_id == project_id, TaskRow.scene_id == scene_id, TaskRow.layer == layer
    )
    session.execute(delete(KpiTaskShapes).where(KpiTaskShapes.task_id.in_(layer_tasks)))
    tasks = _submitted_tasks(session, project_id, scene_id, layer)
    if not tasks:
        return
    deliveries = credit_deliveries(
        tasks, _layer_tracks(session, scene_id, layer), _last_task_of_track(session, tasks)
    )
    rows = [{**asdict(work), "project_id": project_id} for work in work_of(deliveries)]
    # Replaces rather than inserts: two tasks of one layer changing state at once both write its rows.
    upsert(session, KpiTaskShapes.__table__, ("task_id", "label"), rows, add=False)


def note_review(session: Session, task: TaskRow, event: EventRow) -> None:
    """Credit an accept or reject of ``task`` to whoever it is assigned to (whose work it was)."""
    accepted = REVIEW_EVENTS.get(event.kind)
    if accepted is None or task.assignee_id is None:
        return
    session.add(
        KpiReviewDecision(
            event_id=event.id,
            project_id=task.project_id,
            task_id=task.id,
            user_id=task.assignee_id,
            day=utc_day(as_utc(event.at)),
            accepted=accepted,
        )
    )
    session.flush()


def task_changed(session: Session, task: TaskRow, event: EventRow) -> None:
    """Keep the delivered work and the review decisions right after ``task`` changed state by ``event``."""
    if task.kind == TaskKind.ANNOTATE.value:
        refresh_layer(session, task.project_id, task.scene_id, task.layer)
    note_review(session, task, event)


def rebuild(session: Session, project_id: int) -> None:
    """Delivered work and review decisions of the whole project, from the tasks, tracks and events."""
    session.execute(delete(KpiTaskShapes).where(KpiTaskShapes.project_id == project_id))
    session.execute(delete(KpiReviewDecision).where(KpiReviewDecision.project_id == project_id))
    layers = session.execute(
        select(TaskRow.scene_id, TaskRow.layer)
        .where(
            TaskRow.project_id == project_id,
            TaskRow.kind == TaskKind.ANNOTATE.value,
            TaskRow.state.in_(DELIVERED_STATES),
        )
        .distinct()
    ).all()
    for scene_id, layer in layers:
        refresh_layer(session, project_id, scene_id, layer)
    decisions = session.execute(
        select(EventRow, TaskRow)
        .join(TaskRow, TaskRow.id == EventRow.task_id)
        .where(EventRow.project_id == project_id, EventRow.kind.in_(REVIEW_EVENTS))
        .order_by(EventRow.id)
    ).all()
    for event, task in decisions:
        note_review(session, task, event)
