"""The append-only event log: one row for each thing a person or the system did.

Recording an event of a project also tells the live listeners of that project (the KPI stream) once
the transaction commits (``event_broadcast``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from labelpilot.services.actors import Actor
from labelpilot.services.event_broadcast import note_project_event
from labelpilot.store.tables import EventRow


def record_event(
    session: Session,
    actor: Actor,
    kind: str,
    *,
    project_id: int | None = None,
    scene_id: int | None = None,
    task_id: int | None = None,
    track_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> EventRow:
    event = EventRow(
        user_id=actor.user_id or None,
        kind=kind,
        project_id=project_id,
        scene_id=scene_id,
        task_id=task_id,
        track_id=track_id,
        payload=payload or {},
    )
    session.add(event)
    session.flush()
    if project_id is not None:
        note_project_event(session, project_id)
    return event
