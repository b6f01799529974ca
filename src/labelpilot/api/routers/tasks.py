"""Tasks: create, list, "give me my next task", the state machine's transitions, and the editor's
events of a task (nudges shown, heartbeats, ...)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from labelpilot.api.deps import CurrentActor, SessionDep
from labelpilot.api.params import BodyId, IdPath, IdQuery, Int32, Text, Version
from labelpilot.services import task_events, tasks

router = APIRouter(prefix="/api", tags=["tasks"])


class TaskCreate(BaseModel):
    scene_id: BodyId
    kind: Text = Field(default="annotate", description="annotate | review | practice")
    layer: Text = Field(default="work", min_length=1, max_length=120)
    assignee: Text | None = Field(default=None, max_length=80)
    priority: Int32 = 0


class TaskAssign(BaseModel):
    user: Text | None = Field(default=None, max_length=80, description="user name; null unassigns")
    expected_version: Version | None = None


class TaskTransition(BaseModel):
    expected_version: Version | None = None


class TaskReview(BaseModel):
    accept: bool
    comment: Text = Field(default="", max_length=4000)
    expected_version: Version | None = None


class TaskEventCreate(BaseModel):
    kind: Text = Field(max_length=60, description=", ".join(sorted(task_events.TASK_EVENT_KINDS)))
    payload: dict[Text, Any] = Field(
        default_factory=dict,
        description=f"a flat object of the kind's fields, at most {task_events.MAX_PAYLOAD_BYTES} bytes of JSON",
    )


class NextTaskRequest(BaseModel):
    project_id: BodyId | None = None


@router.get("/projects/{project_id}/tasks")
def list_tasks(
    project_id: IdPath,
    session: SessionDep,
    actor: CurrentActor,
    mine: bool = False,
    state: Annotated[Text | None, Query(max_length=40)] = None,
    scene_id: IdQuery = None,
) -> list[dict[str, Any]]:
    views = tasks.list_tasks(session, actor, project_id, mine=mine, state=state, scene_id=scene_id)
    return [v.to_json() for v in views]


@router.post("/projects/{project_id}/tasks", status_code=201)
def create_task(
    project_id: IdPath, body: TaskCreate, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    view = tasks.create_task(
        session, actor, project_id, body.scene_id, body.kind, body.layer, body.assignee, body.priority
    )
    return view.to_json()


@router.post("/tasks/next", responses={204: {"description": "no task is waiting"}})
def next_task(body: NextTaskRequest, session: SessionDep, actor: CurrentActor) -> Any:
    view = tasks.next_task(session, actor, body.project_id)
    if view is None:
        return Response(status_code=204)
    return view.to_json()


@router.get("/tasks/{task_id}")
def get_task(task_id: IdPath, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return tasks.get_task(session, actor, task_id).to_json()


@router.post("/tasks/{task_id}/assign")
def assign_task(
    task_id: IdPath, body: TaskAssign, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    return tasks.assign_task(
        session, actor, task_id, body.user, expected_version=body.expected_version
    ).to_json()


@router.post("/tasks/{task_id}/start")
def start_task(
    task_id: IdPath, body: TaskTransition, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    return tasks.start_task(session, actor, task_id, expected_version=body.expected_version).to_json()


@router.post("/tasks/{task_id}/submit")
def submit_task(
    task_id: IdPath, body: TaskTransition, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    return tasks.submit_task(session, actor, task_id, expected_version=body.expected_version).to_json()


@router.post("/tasks/{task_id}/review")
def review_task(
    task_id: IdPath, body: TaskReview, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    view = tasks.review_task(
        session, actor, task_id, body.accept, body.comment, expected_version=body.expected_version
    )
    return view.to_json()


@router.post("/tasks/{task_id}/events", status_code=201)
def record_task_event(
    task_id: IdPath, body: TaskEventCreate, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    """An event of the editor that is not an edit, recorded by the task's assignee while it is in progress."""
    return task_events.record_task_event(session, actor, task_id, body.kind, body.payload)
