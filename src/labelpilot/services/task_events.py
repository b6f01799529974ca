"""Events of a task that are not edits: what the editor showed and what the person looked at.

The editor records them through the API so that KPIs, coaching and nudges read one event log: a
nudge shown, followed or dismissed, a guidance item opened, a frame viewed, and a heartbeat while the
person is active (active time). Only the assignee of a task in progress records them, only the kinds
in ``TASK_EVENT_KINDS``, and each kind's payload is checked field by field: no other fields, only
flat values, ids of tracks of the task's scene, frames of the scene, and at most
``MAX_PAYLOAD_BYTES`` of JSON, because a client sends them many times an hour and the log keeps them
for good.

Nudge events carry ``{"nudge_kind", "track_id"}`` (a track of the task's layer, also stored as the
event's track), the form ``guidance_queue.task_nudges`` reads: a shown nudge is not given again
until its track's situation changes, a dismissed one never again in the task.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, get_args

from sqlalchemy.orm import Session

from labelpilot.guidance.actions import ActionKind
from labelpilot.guidance.nudges import NudgeKind
from labelpilot.services import tasks
from labelpilot.services.actors import Actor
from labelpilot.services.errors import ConflictError, ForbiddenError, InvalidError
from labelpilot.services.events import record_event
from labelpilot.services.task_views import TaskState, view_of
from labelpilot.store.tables import EventRow, LayerRow, SceneRow, TaskRow, TrackRow

NUDGE_EVENT_KINDS = frozenset({"nudge_shown", "nudge_dismissed", "nudge_followed"})
TASK_EVENT_KINDS = NUDGE_EVENT_KINDS | {"guidance_item_opened", "frame_viewed", "heartbeat"}
MAX_PAYLOAD_BYTES = 1024
MAX_HEARTBEAT_SECONDS = 300.0
"""The longest stretch one heartbeat may stand for (the editor sends one every 30 s)."""
MAX_QUEUE_INDEX = 100_000


@dataclass(frozen=True)
class _Context:
    session: Session
    task: TaskRow
    frame_count: int


Check = Callable[[_Context, str, Any], Any]
"""Validates one payload field (context, field name, value) and answers the value to store."""


def _invalid(name: str, message: str) -> InvalidError:
    return InvalidError(f"payload.{name} {message}", field=f"payload.{name}")


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(name, "must be an integer")
    return value


def _frame(ctx: _Context, name: str, value: Any) -> int:
    frame = _integer(name, value)
    if not 0 <= frame < ctx.frame_count:
        raise _invalid(name, f"must be a frame of the scene (0 to {ctx.frame_count - 1})")
    return frame


def _track(ctx: _Context, name: str, value: Any, *, task_layer: bool) -> int:
    track_id = _integer(name, value)
    layer = None
    row = ctx.session.get(TrackRow, track_id) if 1 <= track_id <= 2**31 - 1 else None
    if row is not None:
        layer = ctx.session.get(LayerRow, row.layer_id)
    if layer is None or layer.scene_id != ctx.task.scene_id:
        raise _invalid(name, f"must be a track of scene {ctx.task.scene_id}")
    if task_layer and layer.name != ctx.task.layer:
        raise _invalid(name, f"must be a track of the task's layer {ctx.task.layer!r}")
    return track_id


def _scene_track(ctx: _Context, name: str, value: Any) -> int | None:
    return None if value is None else _track(ctx, name, value, task_layer=False)


def _layer_track(ctx: _Context, name: str, value: Any) -> int:
    return _track(ctx, name, value, task_layer=True)


def _one_of(values: tuple[str, ...]) -> Check:
    def check(ctx: _Context, name: str, value: Any) -> str:
        if not isinstance(value, str) or value not in values:
            raise _invalid(name, f"must be one of {', '.join(values)}")
        return value

    return check


def _seconds(ctx: _Context, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _invalid(name, "must be a number of seconds")
    if not 0 < value <= MAX_HEARTBEAT_SECONDS:
        raise _invalid(name, f"must be more than 0 and at most {MAX_HEARTBEAT_SECONDS:g} seconds")
    return float(value)


def _queue_index(ctx: _Context, name: str, value: Any) -> int:
    index = _integer(name, value)
    if not 0 <= index <= MAX_QUEUE_INDEX:
        raise _invalid(name, f"must be a position in the guidance queue (0 to {MAX_QUEUE_INDEX})")
    return index


_NUDGE_FIELDS: dict[str, tuple[Check, bool]] = {
    "nudge_kind": (_one_of(get_args(NudgeKind)), True),
    "track_id": (_layer_track, True),
    "frame": (_frame, False),
}
PAYLOAD_FIELDS: Mapping[str, Mapping[str, tuple[Check, bool]]] = {
    **dict.fromkeys(NUDGE_EVENT_KINDS, _NUDGE_FIELDS),
    "guidance_item_opened": {
        "action_kind": (_one_of(get_args(ActionKind)), True),
        "frame": (_frame, True),
        "track_id": (_scene_track, False),
        "index": (_queue_index, False),
    },
    "frame_viewed": {"frame": (_frame, True)},
    "heartbeat": {"frame": (_frame, False), "interval_s": (_seconds, False)},
}
"""Per kind: field -> (its check, whether it is required)."""


def _size(payload: Any) -> int:
    try:
        return len(json.dumps(payload, allow_nan=False, separators=(",", ":")))
    except (TypeError, ValueError, RecursionError):
        raise InvalidError("payload must be a JSON object of finite values", field="payload") from None


def check_payload(ctx: _Context, kind: str, payload: Any) -> dict[str, Any]:
    """The payload to store for an event of ``kind`` (InvalidError when it does not fit the kind)."""
    if kind not in PAYLOAD_FIELDS:
        known = ", ".join(sorted(PAYLOAD_FIELDS))
        raise InvalidError(f"unknown event kind {kind!r} (known: {known})", field="kind")
    if not isinstance(payload, dict):
        raise InvalidError("payload must be a JSON object", field="payload")
    if _size(payload) > MAX_PAYLOAD_BYTES:
        raise InvalidError(f"payload is over {MAX_PAYLOAD_BYTES} bytes of JSON", field="payload")
    fields = PAYLOAD_FIELDS[kind]
    unknown = sorted(set(payload) - set(fields))
    if unknown:
        raise InvalidError(
            f"{kind} takes no field {unknown[0]!r} (known: {', '.join(fields)})",
            field=f"payload.{unknown[0]}",
        )
    checked: dict[str, Any] = {}
    for name, (check, required) in fields.items():
        if name in payload:
            checked[name] = check(ctx, name, payload[name])
        elif required:
            raise _invalid(name, f"is required for {kind}")
    return checked


def _open_task(session: Session, actor: Actor, task_id: int) -> TaskRow:
    """The task, if the actor is its assignee and it is in progress."""
    tasks.get_task(session, actor, task_id)  # 404 / 403 exactly as for reading it
    row = session.get(TaskRow, task_id)
    assert row is not None  # get_task found it
    if row.assignee_id != actor.user_id:
        raise ForbiddenError(f"only the assignee records events of task {task_id}")
    if row.state != TaskState.IN_PROGRESS.value:
        raise ConflictError(
            f"task {task_id} is {row.state}; its events are recorded while it is in progress",
            current=view_of(session, row).to_json(),
        )
    return row


def event_json(event: EventRow) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "task_id": event.task_id,
        "track_id": event.track_id,
        "payload": event.payload,
        "at": event.at.isoformat(),
    }


def record_task_event(
    session: Session, actor: Actor, task_id: int, kind: str, payload: Any = None
) -> dict[str, Any]:
    """Record one event of the editor in the task (the assignee's, in progress); answers it (``event_json``)."""
    task = _open_task(session, actor, task_id)
    scene = session.get(SceneRow, task.scene_id)
    assert scene is not None  # a task's scene is deleted with it
    checked = check_payload(
        _Context(session, task, scene.frame_count), kind, {} if payload is None else payload
    )
    track_id = checked.get("track_id")
    event = record_event(
        session,
        actor,
        kind,
        project_id=task.project_id,
        scene_id=task.scene_id,
        task_id=task.id,
        track_id=track_id if isinstance(track_id, int) else None,
        payload=checked,
    )
    return event_json(event)
