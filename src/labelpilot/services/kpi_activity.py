"""Read what the KPIs of a project are computed from: its people's events, its delivered tracks and
its settings, as the plain records of ``labelpilot.kpi``.

Delivered work is the confirmed, live tracks in the layer of every annotate task that is submitted or
accepted (review and practice tasks deliver no shapes; their time still counts). Events of the system
(no user) are not anybody's time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.kpi.deliveries import credit_deliveries, shape_count
from labelpilot.kpi.records import ActivityEvent, Delivery, LayerTrack, SubmittedTask
from labelpilot.services.errors import NotFoundError
from labelpilot.services.task_views import TaskKind, TaskState
from labelpilot.store.tables import EventRow, LayerRow, Membership, Project, TaskRow, TrackRow, User
from labelpilot.tracks import TrackStatus

DELIVERED_STATES = (TaskState.SUBMITTED.value, TaskState.ACCEPTED.value)
SUBMITTED_EVENT = "task_submitted"


@dataclass(frozen=True)
class ProjectActivity:
    project_id: int
    hourly_cost_eur: float
    show_peer_names: bool
    events: list[ActivityEvent]
    deliveries: list[Delivery]
    roles: dict[int, str]
    """member -> role in the project"""
    names: dict[int, str]
    """user id -> name, for every member and everyone with events or deliveries"""

    @property
    def people(self) -> list[int]:
        """Members and everyone else who worked in the project (e.g. an administrator), by id."""
        ids = set(self.roles) | {e.user_id for e in self.events} | {d.user_id for d in self.deliveries}
        return sorted(ids)


def as_utc(at: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _events(session: Session, project_id: int) -> list[ActivityEvent]:
    rows = session.execute(
        select(EventRow.at, EventRow.user_id, EventRow.kind, EventRow.task_id)
        .where(EventRow.project_id == project_id, EventRow.user_id.is_not(None))
        .order_by(EventRow.id)
    ).all()
    return [
        ActivityEvent(as_utc(at), user_id, kind, task_id)
        for at, user_id, kind, task_id in rows
        if user_id is not None  # the query left them out; this tells the type checker
    ]


def _submitted_tasks(session: Session, project_id: int) -> list[SubmittedTask]:
    tasks = session.execute(
        select(TaskRow.id, TaskRow.scene_id, TaskRow.layer, TaskRow.assignee_id, TaskRow.updated_at).where(
            TaskRow.project_id == project_id,
            TaskRow.kind == TaskKind.ANNOTATE.value,
            TaskRow.state.in_(DELIVERED_STATES),
        )
    ).all()
    if not tasks:
        return []
    submissions: dict[int, tuple[int | None, datetime]] = {}
    for task_id, user_id, at in session.execute(
        select(EventRow.task_id, EventRow.user_id, EventRow.at)
        .where(
            EventRow.project_id == project_id,
            EventRow.kind == SUBMITTED_EVENT,
            EventRow.task_id.in_([t.id for t in tasks]),
        )
        .order_by(EventRow.id)
    ).all():
        if task_id is not None:
            submissions[task_id] = (user_id, at)  # the last submission wins (after a rework)
    submitted: list[SubmittedTask] = []
    for task_id, scene_id, layer, assignee_id, updated_at in tasks:
        # Without a submission event (not made through the services), the assignee delivered it
        # when the task last changed.
        user_id, at = submissions.get(task_id, (assignee_id, updated_at))
        if user_id is not None:
            submitted.append(SubmittedTask(task_id, scene_id, layer, user_id, as_utc(at)))
    return submitted


def _layer_tracks(session: Session, tasks: list[SubmittedTask]) -> list[LayerTrack]:
    layers = {(t.scene_id, t.layer) for t in tasks}
    rows = session.execute(
        select(
            TrackRow.id,
            LayerRow.scene_id,
            LayerRow.name,
            TrackRow.first_frame,
            TrackRow.last_frame,
            TrackRow.absent_frames,
            TrackRow.stationary_pose,
            TrackRow.provenance_kind,
        )
        .join(LayerRow, LayerRow.id == TrackRow.layer_id)
        .where(
            LayerRow.scene_id.in_({scene_id for scene_id, _ in layers}),
            LayerRow.name.in_({name for _, name in layers}),
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
        )
        for track_id, scene_id, layer, first, last, absent, stationary_pose, provenance in rows
        if (scene_id, layer) in layers
    ]


def _last_task_of_track(session: Session, tasks: list[SubmittedTask]) -> dict[int, int]:
    last: dict[int, int] = {}
    for track_id, task_id in session.execute(
        select(EventRow.track_id, EventRow.task_id)
        .where(EventRow.task_id.in_([t.task_id for t in tasks]), EventRow.track_id.is_not(None))
        .order_by(EventRow.id)
    ).all():
        if track_id is not None and task_id is not None:
            last[track_id] = task_id
    return last


def _deliveries(session: Session, project_id: int) -> list[Delivery]:
    tasks = _submitted_tasks(session, project_id)
    if not tasks:
        return []
    return credit_deliveries(tasks, _layer_tracks(session, tasks), _last_task_of_track(session, tasks))


def load_project_activity(session: Session, project_id: int) -> ProjectActivity:
    """Everything the project's KPIs need, read in one transaction (the caller checks access)."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFoundError(f"project {project_id} not found")
    events = _events(session, project_id)
    deliveries = _deliveries(session, project_id)
    roles = dict(
        session.execute(
            select(Membership.user_id, Membership.role).where(Membership.project_id == project_id)
        ).all()
    )
    user_ids = set(roles) | {e.user_id for e in events} | {d.user_id for d in deliveries}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())
    return ProjectActivity(
        project_id=project_id,
        hourly_cost_eur=project.hourly_cost_eur,
        show_peer_names=project.show_peer_names,
        events=events,
        deliveries=deliveries,
        roles=roles,
        names=names,
    )
