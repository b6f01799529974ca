"""Tasks: units of human work on a scene, with a state machine.

queued -> in_progress -> submitted -> accepted | rejected, and rejected -> in_progress (rework).
Every transition is a conditional UPDATE on the state and version the caller read, so two
concurrent transitions of one task can never both succeed; each bumps the version and records an
event with the state before and after.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from labelpilot.services import kpi_deliveries
from labelpilot.services.actors import ALL_ROLES, STAFF, Actor, Role, require_role
from labelpilot.services.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from labelpilot.services.events import record_event
from labelpilot.services.task_views import TaskKind, TaskState, TaskView, snapshot_of, view_of
from labelpilot.services.track_edit_input import GROUND_TRUTH, check_layer_name, is_auto_layer
from labelpilot.services.track_edit_store import ensure_layer
from labelpilot.store.tables import Membership, SceneRow, TaskRow, User, utcnow

URGENT_FIRST = (TaskRow.priority.desc(), TaskRow.created_at, TaskRow.id)
"""Higher priority first, then the oldest."""
MANAGERS = frozenset({Role.MANAGER})
REVIEWERS = frozenset({Role.REVIEWER, Role.MANAGER})
CLAIM_BATCH = 20
"""Unassigned tasks next_task fetches at a time to try to claim (most often the first one wins)."""
CLAIMABLE_KINDS = {
    Role.ANNOTATOR: (TaskKind.ANNOTATE, TaskKind.PRACTICE),
    Role.REVIEWER: (TaskKind.REVIEW,),
}
"""Unassigned queued tasks a member may take for themselves, by their role in the project."""


def _load(session: Session, task_id: int) -> TaskRow:
    # populate_existing: the row may have changed in another transaction since this session read it.
    row = session.get(TaskRow, task_id, populate_existing=True)
    if row is None:
        raise NotFoundError(f"task {task_id} not found")
    return row


def _member_id(session: Session, project_id: int, user_name: str) -> int:
    user = session.scalar(select(User).where(User.name == user_name))
    if user is None:
        raise NotFoundError(f"user {user_name!r} not found")
    if session.get(Membership, (project_id, user.id)) is None:
        raise InvalidError(f"{user_name!r} is not a member of project {project_id}", field="assignee")
    return user.id


def _transition(
    session: Session,
    actor: Actor,
    row: TaskRow,
    allowed_from: tuple[TaskState, ...],
    to_state: TaskState,
    event_kind: str,
    *,
    expected_version: int | None = None,
    new_assignee: tuple[int | None] | None = None,
    payload: dict[str, Any] | None = None,
) -> TaskView:
    """Move the task to ``to_state`` if it is in one of ``allowed_from``; ``new_assignee`` (a 1-tuple,
    since None is a valid assignee) also changes who it is assigned to."""
    if row.state not in allowed_from:
        allowed = " or ".join(s.value for s in allowed_from)
        raise ConflictError(
            f"task {row.id} is {row.state}; it must be {allowed} to become {to_state.value}",
            current=view_of(session, row).to_json(),
        )
    if expected_version is not None and expected_version != row.version:
        raise ConflictError(
            f"task {row.id} is at version {row.version}, not {expected_version}; reload it",
            current=view_of(session, row).to_json(),
        )
    before = snapshot_of(row)
    values: dict[str, Any] = {"state": to_state.value, "version": row.version + 1, "updated_at": utcnow()}
    if new_assignee is not None:
        values["assignee_id"] = new_assignee[0]
    statement = (
        update(TaskRow)
        .where(TaskRow.id == row.id, TaskRow.version == row.version, TaskRow.state == row.state)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if cast("CursorResult[Any]", session.execute(statement)).rowcount != 1:
        current = _load(session, row.id)
        raise ConflictError(
            f"task {row.id} changed meanwhile and is now {current.state}",
            current=view_of(session, current).to_json(),
        )
    after_row = _load(session, row.id)
    event = record_event(
        session,
        actor,
        event_kind,
        project_id=after_row.project_id,
        scene_id=after_row.scene_id,
        task_id=after_row.id,
        payload={"before": before, "after": snapshot_of(after_row), **(payload or {})},
    )
    kpi_deliveries.task_changed(session, after_row, event)
    return view_of(session, after_row)


def create_task(
    session: Session,
    actor: Actor,
    project_id: int,
    scene_id: int,
    kind: str,
    layer: str = "work",
    assignee: str | None = None,
    priority: int = 0,
) -> TaskView:
    """A queued task on a scene of the project (managers and admins). The layer is created if missing."""
    require_role(session, actor, project_id, MANAGERS)
    try:
        task_kind = TaskKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in TaskKind)
        raise InvalidError(f"unknown task kind {kind!r} (known: {known})", field="kind") from None
    scene = session.get(SceneRow, scene_id)
    if scene is None or scene.project_id != project_id:
        raise NotFoundError(f"scene {scene_id} not found in project {project_id}")
    layer_name = check_layer_name(layer)
    if layer_name == GROUND_TRUTH or is_auto_layer(layer_name):
        raise InvalidError("a task works in an editable layer, not ground_truth or auto:*", field="layer")
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise InvalidError("priority must be an integer", field="priority")
    assignee_id = _member_id(session, project_id, assignee) if assignee is not None else None
    ensure_layer(session, scene_id, layer_name)
    row = TaskRow(
        project_id=project_id,
        scene_id=scene_id,
        kind=task_kind.value,
        state=TaskState.QUEUED.value,
        layer=layer_name,
        assignee_id=assignee_id,
        priority=priority,
        version=1,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        actor,
        "task_created",
        project_id=project_id,
        scene_id=scene_id,
        task_id=row.id,
        payload={"before": None, "after": snapshot_of(row), "kind": row.kind, "layer": row.layer},
    )
    return view_of(session, row)


def assign_task(
    session: Session,
    actor: Actor,
    task_id: int,
    user_name: str | None,
    *,
    expected_version: int | None = None,
) -> TaskView:
    """Give the task to a member, or take it back with None (managers and admins).

    A task in progress may change hands and stays in progress; taken back, it returns to the queue.
    Submitted and finished tasks keep their assignee.
    """
    row = _load(session, task_id)
    require_role(session, actor, row.project_id, MANAGERS)
    new_assignee = _member_id(session, row.project_id, user_name) if user_name is not None else None
    state = TaskState(row.state)
    to_state = TaskState.QUEUED if new_assignee is None and state is TaskState.IN_PROGRESS else state
    return _transition(
        session,
        actor,
        row,
        (TaskState.QUEUED, TaskState.IN_PROGRESS, TaskState.REJECTED),
        to_state,
        "task_assigned",
        expected_version=expected_version,
        new_assignee=(new_assignee,),
    )


def _require_assignee(session: Session, actor: Actor, row: TaskRow) -> None:
    require_role(session, actor, row.project_id, ALL_ROLES)
    if row.assignee_id != actor.user_id:
        raise ForbiddenError(f"task {row.id} is not assigned to you")


def start_task(
    session: Session, actor: Actor, task_id: int, *, expected_version: int | None = None
) -> TaskView:
    """The assignee starts a queued task, or resumes a rejected one (rework)."""
    row = _load(session, task_id)
    _require_assignee(session, actor, row)
    return _transition(
        session,
        actor,
        row,
        (TaskState.QUEUED, TaskState.REJECTED),
        TaskState.IN_PROGRESS,
        "task_started",
        expected_version=expected_version,
        payload={"rework": row.state == TaskState.REJECTED.value},
    )


def submit_task(
    session: Session, actor: Actor, task_id: int, *, expected_version: int | None = None
) -> TaskView:
    """The assignee hands in a task in progress for review."""
    row = _load(session, task_id)
    _require_assignee(session, actor, row)
    return _transition(
        session,
        actor,
        row,
        (TaskState.IN_PROGRESS,),
        TaskState.SUBMITTED,
        "task_submitted",
        expected_version=expected_version,
    )


def review_task(
    session: Session,
    actor: Actor,
    task_id: int,
    accept: bool,
    comment: str = "",
    *,
    expected_version: int | None = None,
) -> TaskView:
    """A reviewer or manager accepts or rejects a submitted task; nobody reviews their own work."""
    row = _load(session, task_id)
    require_role(session, actor, row.project_id, REVIEWERS)
    if row.assignee_id == actor.user_id and not actor.is_admin:
        raise ForbiddenError(f"task {task_id} is your own work; another reviewer must review it")
    return _transition(
        session,
        actor,
        row,
        (TaskState.SUBMITTED,),
        TaskState.ACCEPTED if accept else TaskState.REJECTED,
        "task_accepted" if accept else "task_rejected",
        expected_version=expected_version,
        payload={"comment": comment},
    )


def _try_claim(session: Session, actor: Actor, task_id: int) -> TaskView | None:
    """Assign the task to the actor if it is still queued and unassigned; None if someone was faster."""
    statement = (
        update(TaskRow)
        .where(TaskRow.id == task_id, TaskRow.assignee_id.is_(None), TaskRow.state == TaskState.QUEUED.value)
        .values(assignee_id=actor.user_id, version=TaskRow.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if cast("CursorResult[Any]", session.execute(statement)).rowcount != 1:
        return None
    row = _load(session, task_id)
    before = {**snapshot_of(row), "assignee_id": None, "version": row.version - 1}
    record_event(
        session,
        actor,
        "task_assigned",
        project_id=row.project_id,
        scene_id=row.scene_id,
        task_id=row.id,
        payload={"before": before, "after": snapshot_of(row), "claimed": True},
    )
    return view_of(session, row)


def _claim(session: Session, actor: Actor, project_id: int | None) -> TaskView | None:
    memberships = select(Membership.project_id, Membership.role).where(Membership.user_id == actor.user_id)
    if project_id is not None:
        memberships = memberships.where(Membership.project_id == project_id)
    for member_project, role_name in session.execute(memberships.order_by(Membership.project_id)).all():
        kinds = [k.value for k in CLAIMABLE_KINDS.get(Role(role_name), ())]
        if not kinds:
            continue
        candidates = (
            select(TaskRow.id)
            .where(
                TaskRow.project_id == member_project,
                TaskRow.state == TaskState.QUEUED.value,
                TaskRow.assignee_id.is_(None),
                TaskRow.kind.in_(kinds),
            )
            .order_by(*URGENT_FIRST)
            .limit(CLAIM_BATCH)
        )
        # Each lost race means another caller took that task; never retry one, so this ends.
        tried: list[int] = []
        while task_ids := session.scalars(candidates.where(TaskRow.id.not_in(tried))).all():
            for task_id in task_ids:
                claimed = _try_claim(session, actor, task_id)
                if claimed is not None:
                    return claimed
                tried.append(task_id)
    return None


def next_task(session: Session, actor: Actor, project_id: int | None = None) -> TaskView | None:
    """The actor's next task: their own task in progress, else their rework (rejected) tasks, else
    their queued tasks (priority, then age), else an unassigned queued task they may take, which is
    assigned to them atomically. None when there is nothing to do."""
    if project_id is not None:
        require_role(session, actor, project_id, ALL_ROLES)
    own = select(TaskRow).where(TaskRow.assignee_id == actor.user_id)
    if project_id is not None:
        own = own.where(TaskRow.project_id == project_id)
    for state in (TaskState.IN_PROGRESS, TaskState.REJECTED, TaskState.QUEUED):
        found = session.scalars(
            own.where(TaskRow.state == state.value).order_by(*URGENT_FIRST).limit(1)
        ).first()
        if found is not None:
            return view_of(session, found)
    return _claim(session, actor, project_id)


def get_task(session: Session, actor: Actor, task_id: int) -> TaskView:
    """A task; staff and admins see any task of their projects, an annotator only their own."""
    row = _load(session, task_id)
    role = require_role(session, actor, row.project_id, ALL_ROLES)
    if not actor.is_admin and role not in STAFF and row.assignee_id != actor.user_id:
        raise ForbiddenError(f"task {task_id} is not assigned to you")
    return view_of(session, row)


def list_tasks(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    mine: bool = False,
    state: str | None = None,
    scene_id: int | None = None,
) -> list[TaskView]:
    """The project's tasks, most urgent first; an annotator (or ``mine``) sees only their own."""
    role = require_role(session, actor, project_id, ALL_ROLES)
    query = select(TaskRow).where(TaskRow.project_id == project_id)
    if mine or (not actor.is_admin and role not in STAFF):
        query = query.where(TaskRow.assignee_id == actor.user_id)
    if state is not None:
        try:
            query = query.where(TaskRow.state == TaskState(state).value)
        except ValueError:
            known = ", ".join(s.value for s in TaskState)
            raise InvalidError(f"unknown task state {state!r} (known: {known})", field="state") from None
    if scene_id is not None:
        query = query.where(TaskRow.scene_id == scene_id)
    return [view_of(session, row) for row in session.scalars(query.order_by(*URGENT_FIRST)).all()]


__all__ = [
    "TaskKind",
    "TaskState",
    "TaskView",
    "assign_task",
    "create_task",
    "get_task",
    "list_tasks",
    "next_task",
    "review_task",
    "start_task",
    "submit_task",
]
