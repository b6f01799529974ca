"""What a task looks like to callers (TaskView) and to the event log (snapshot_of)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from labelpilot.store.tables import TaskRow, User


class TaskState(StrEnum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class TaskKind(StrEnum):
    ANNOTATE = "annotate"
    REVIEW = "review"
    PRACTICE = "practice"


@dataclass(frozen=True)
class TaskView:
    id: int
    project_id: int
    scene_id: int
    kind: str
    state: str
    layer: str
    assignee: str | None
    priority: int
    version: int
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project_id": self.project_id,
            "scene_id": self.scene_id,
            "kind": self.kind,
            "state": self.state,
            "layer": self.layer,
            "assignee": self.assignee,
            "priority": self.priority,
            "version": self.version,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


def view_of(session: Session, row: TaskRow) -> TaskView:
    assignee = session.get(User, row.assignee_id) if row.assignee_id is not None else None
    return TaskView(
        row.id,
        row.project_id,
        row.scene_id,
        row.kind,
        row.state,
        row.layer,
        assignee.name if assignee else None,
        row.priority,
        row.version,
        row.created_at,
        row.updated_at,
    )


def snapshot_of(row: TaskRow) -> dict[str, Any]:
    """What the event log keeps of a task before and after a transition."""
    return {"state": row.state, "assignee_id": row.assignee_id, "version": row.version}
