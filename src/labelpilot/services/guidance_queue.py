"""What a person should do next on a stored scene (guidance) and when they drift into a slow path (nudges).

Both run the pure algorithms of ``labelpilot.guidance`` on the scene as stored, with track ids that
are row ids (``load_scene(..., track_ids="row")``), so an action's or nudge's ``track_id`` is what
the editor and the API address. Neither ever loads the ``ground_truth`` layer: guidance sees the
work layer and the candidate layers it is given, nudges the task's layer and its events.

The editor records the nudges it shows and the ones the person dismisses as task events
(``task_events``, payload ``{"nudge_kind", "track_id"}``): a shown nudge is silenced until its
track's situation changes (``guidance.nudges``), a dismissed one for the rest of the task.

The queue is asked for after every decision, and a decision changes one track: ``guidance``,
``candidate_guidance`` and ``proposed_life`` share one process-wide ``GuidanceMemo`` (``QUEUE_MEMO``)
of per-track results, keyed by content, so that the tracks nothing changed are not computed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.automation.candidates import CANDIDATE_PREFIX
from labelpilot.guidance.actions import ranked
from labelpilot.guidance.engine import next_best_actions, pending_candidate_actions
from labelpilot.guidance.life_actions import life_actions
from labelpilot.guidance.memo import GuidanceMemo
from labelpilot.guidance.nudges import NUDGE_SHOWN, TaskEvent, nudges
from labelpilot.scenes import Scene
from labelpilot.services import tasks
from labelpilot.services.actors import Actor
from labelpilot.services.blob_sweeps import BlobSweeps
from labelpilot.services.errors import InvalidError
from labelpilot.services.scene_access import visible_scene
from labelpilot.services.scene_load import scene_from_rows
from labelpilot.services.task_views import TaskView
from labelpilot.services.track_edit_input import AUTO_PREFIX, GROUND_TRUTH
from labelpilot.services.track_edit_store import load_track
from labelpilot.store.blobs import BlobStore
from labelpilot.store.tables import EventRow, LayerRow, SceneRow
from labelpilot.tracks import AnnotationLayer

DEFAULT_WORK_LAYER = "work"
MAX_ACTIONS = 1000
"""The most actions one request may ask for (a scene rarely has more than a few hundred)."""
NUDGE_DISMISSED = "nudge_dismissed"
QUEUE_MEMO = GuidanceMemo()
"""Per-track guidance results of every scene this process served (bounded; see ``guidance.memo``)."""


def _sweeps(blobs: BlobStore, scene: Scene) -> BlobSweeps | None:
    return BlobSweeps.of_scene(blobs, scene) if any(f.lidar is not None for f in scene.frames) else None


def _task_on_scene(session: Session, actor: Actor, task_id: int, scene_id: int) -> TaskView:
    task = tasks.get_task(session, actor, task_id)
    if task.scene_id != scene_id:
        raise InvalidError(f"task {task_id} is on scene {task.scene_id}, not {scene_id}", field="task_id")
    return task


def default_candidate_layers(layer_names: Sequence[str]) -> list[str]:
    """Every ``candidates:*`` layer; where there is none, every ``auto:*`` layer (raw auto labels)."""
    candidates = [n for n in layer_names if n.startswith(CANDIDATE_PREFIX)]
    return candidates or [n for n in layer_names if n.startswith(AUTO_PREFIX)]


def measured_track_ids(session: Session, scene_id: int, task_id: int | None) -> set[str]:
    """Tracks whose size a person changed (``track_updated`` with a new size): they need no measuring.

    Only the task's events when a task is given (what this person did in it), else every event on
    the scene.
    """
    query = select(EventRow.track_id, EventRow.payload).where(
        EventRow.scene_id == scene_id, EventRow.kind == "track_updated", EventRow.track_id.is_not(None)
    )
    if task_id is not None:
        query = query.where(EventRow.task_id == task_id)
    measured: set[str] = set()
    for track_id, payload in session.execute(query):
        before, after = (payload or {}).get("before") or {}, (payload or {}).get("after") or {}
        if after.get("size") is not None and before.get("size") != after.get("size"):
            measured.add(str(track_id))
    return measured


def _load(session: Session, scene_row: SceneRow, work_layer: str, candidate_layers: Sequence[str]) -> Scene:
    """The scene with just these layers (an empty work layer when it does not exist yet)."""
    stored = set(session.scalars(select(LayerRow.name).where(LayerRow.scene_id == scene_row.id)))
    wanted = [work_layer, *(n for n in candidate_layers if n != work_layer)]
    scene = scene_from_rows(session, scene_row, [n for n in wanted if n in stored or n != work_layer])
    if work_layer not in scene.layers:
        scene.add_layer(AnnotationLayer(work_layer))
    return scene


def _queue_scene(
    session: Session,
    actor: Actor,
    scene_id: int,
    task_id: int | None,
    work_layer: str | None,
    candidate_layers: Sequence[str] | None,
) -> tuple[Scene, str, list[str]]:
    """The scene loaded with the work layer and the candidate layers a queue reads (access checked)."""
    scene_row = visible_scene(session, actor, scene_id)
    task = _task_on_scene(session, actor, task_id, scene_id) if task_id is not None else None
    work = work_layer if work_layer is not None else task.layer if task is not None else DEFAULT_WORK_LAYER
    if candidate_layers is None:
        names = session.scalars(
            select(LayerRow.name).where(LayerRow.scene_id == scene_id).order_by(LayerRow.id)
        ).all()
        candidate_layers = [n for n in default_candidate_layers(names) if n != work]
    if GROUND_TRUTH in (work, *candidate_layers):
        raise InvalidError("guidance never reads the ground_truth layer", field="layer")
    return _load(session, scene_row, work, candidate_layers), work, list(candidate_layers)


def guidance(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    scene_id: int,
    *,
    task_id: int | None = None,
    work_layer: str | None = None,
    candidate_layers: Sequence[str] | None = None,
    limit: int | None = None,
    memo: GuidanceMemo | None = QUEUE_MEMO,
) -> list[dict[str, Any]]:
    """The next best actions on the scene, best first (``Action.to_json``), for anyone who sees it.

    ``work_layer`` defaults to the task's layer (else ``work``); ``candidate_layers`` to
    ``default_candidate_layers`` of the scene. A ``task_id`` must name a task on this scene the
    caller may see. Tracks in ``measured_track_ids`` get no ``measure`` action. ``memo`` keeps
    per-track results between requests (None: compute everything).
    """
    scene, work, candidates = _queue_scene(session, actor, scene_id, task_id, work_layer, candidate_layers)
    if limit is not None and not 1 <= limit <= MAX_ACTIONS:
        raise InvalidError(f"limit must be between 1 and {MAX_ACTIONS}", field="limit")
    actions = next_best_actions(
        scene,
        work,
        candidates,
        sweeps=_sweeps(blobs, scene),
        limit=limit,
        measured_track_ids=measured_track_ids(session, scene_id, task_id),
        memo=memo,
    )
    return [action.to_json() for action in actions]


def candidate_guidance(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    scene_id: int,
    *,
    task_id: int | None = None,
    memo: GuidanceMemo | None = QUEUE_MEMO,
) -> list[dict[str, Any]]:
    """The queue's items for pending candidates only, in the queue's order (``guidance`` without the
    items for confirmed tracks and missed objects, which cost most of its time)."""
    scene, work, candidates = _queue_scene(session, actor, scene_id, task_id, None, None)
    work_layer = scene.layers.get(work) or AnnotationLayer(work)
    actions = pending_candidate_actions(
        scene, work_layer, candidates, sweeps=_sweeps(blobs, scene), memo=memo
    )
    return [action.to_json() for action in ranked(actions)]


def proposed_life(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    track_id: int,
    *,
    task_id: int | None = None,
    memo: GuidanceMemo | None = QUEUE_MEMO,
) -> list[dict[str, Any]]:
    """The queue's items about one track's life (``accept_life``, ``check_end``; ``Action.to_json``),
    for anyone who sees its scene, without computing the whole queue or reading the rest of its layer
    (asked right after a person extends or marks a track they drew)."""
    loaded = load_track(session, track_id)
    scene_row = visible_scene(session, actor, loaded.scene.id)
    if task_id is not None:
        _task_on_scene(session, actor, task_id, scene_row.id)
    layer = loaded.layer.name
    if layer == GROUND_TRUTH:
        raise InvalidError("guidance never reads the ground_truth layer", field="track_id")
    if loaded.row.deleted:
        return []
    scene = scene_from_rows(session, scene_row, [])
    actions = life_actions(scene, layer, [loaded.as_track()], _sweeps(blobs, scene), memo=memo)
    return [a.to_json() for a in actions]


def _task_event(row: EventRow) -> TaskEvent:
    payload = dict(row.payload or {})
    if row.kind == NUDGE_SHOWN and "nudge_kind" in payload:
        # guidance.nudges reads the shown nudge's kind as the payload's "kind".
        payload["kind"] = payload["nudge_kind"]
    frame = payload.get("frame")
    return TaskEvent(
        kind=row.kind,
        track_id=str(row.track_id) if row.track_id is not None else None,
        frame=frame if isinstance(frame, int) and not isinstance(frame, bool) else None,
        payload=payload,
        at=row.at,
    )


def task_nudges(session: Session, blobs: BlobStore, actor: Actor, task_id: int) -> list[dict[str, Any]]:
    """Nudges for a task from what was done in it so far (``Nudge.to_json``), for anyone who sees the
    task; never one its assignee dismissed (same kind, same track) in it."""
    task = tasks.get_task(session, actor, task_id)
    scene_row = session.get(SceneRow, task.scene_id)
    assert scene_row is not None  # a task's scene is deleted with it
    rows = session.scalars(
        select(EventRow).where(EventRow.task_id == task_id).order_by(EventRow.at, EventRow.id)
    )
    events = [_task_event(row) for row in rows]
    dismissed = {(str(e.payload.get("nudge_kind")), e.track_id) for e in events if e.kind == NUDGE_DISMISSED}
    scene = _load(session, scene_row, task.layer, [])
    found = nudges(events, scene, task.layer, sweeps=_sweeps(blobs, scene))
    return [nudge.to_json() for nudge in found if (nudge.kind, nudge.track_id) not in dismissed]
