"""Candidate tracks (from auto:* layers or proposed in a work layer): confirm or reject them.

Confirming is the main path from automation to delivered shapes, so it is recorded as its own
event kind (``candidate_confirmed``) that the KPIs count.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from labelpilot.services.actors import Actor
from labelpilot.services.codec import track_from_rows
from labelpilot.services.errors import ConflictError
from labelpilot.services.track_edit_input import is_auto_layer
from labelpilot.services.track_edit_store import (
    EditResult,
    LoadedTrack,
    apply_edit,
    authorise_edit,
    ensure_layer,
    insert_track,
    open_edit,
    record_edit,
    result_of,
    write_versioned,
)
from labelpilot.store.tables import KeyframeRow
from labelpilot.tracks import Provenance, TrackStatus

DEFAULT_WORK_LAYER = "work"


def _require_candidate(loaded: LoadedTrack) -> None:
    if loaded.row.status != TrackStatus.CANDIDATE.value:
        raise ConflictError(
            f"track {loaded.row.id} is {loaded.row.status}, not a candidate", current=loaded.to_json()
        )


def confirm_candidate(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    *,
    task_id: int | None = None,
) -> EditResult:
    """Accept a candidate track.

    A candidate of an ``auto:*`` layer is copied into the task's layer (``work`` without a task) as a
    confirmed track with provenance ("candidate", <auto layer>), and the candidate itself is marked
    confirmed; the result is the copy, with the candidate's new state in ``candidate``. A candidate
    in any other layer is confirmed in place.
    """
    loaded, task = open_edit(session, actor, track_id, expected_version, task_id, candidate_source=True)
    _require_candidate(loaded)
    confirmed = {"status": TrackStatus.CONFIRMED.value}
    if not is_auto_layer(loaded.layer.name):
        return apply_edit(session, actor, "candidate_confirmed", loaded, task, expected_version, confirmed)
    target = task.layer if task is not None else DEFAULT_WORK_LAYER
    authorise_edit(session, actor, loaded.scene, target, task_id)
    before = loaded.to_json()
    keyframe_rows = [KeyframeRow(frame=f, world_pose=p) for f, p in loaded.keyframes.items()]
    copy = dataclasses.replace(
        track_from_rows(loaded.row, keyframe_rows),
        track_id=f"candidate-{track_id}",
        provenance=Provenance("candidate", loaded.layer.name),
        status=TrackStatus.CONFIRMED,
    )
    write_versioned(session, loaded, expected_version, confirmed)
    new_id = insert_track(session, copy, ensure_layer(session, loaded.scene.id, target).id)
    candidate_after = result_of(session, track_id).track
    result = result_of(session, new_id, candidate=candidate_after)
    record_edit(
        session,
        actor,
        "candidate_confirmed",
        loaded.scene,
        new_id,
        task,
        before,
        result.track,
        candidate_id=track_id,
        candidate_after=candidate_after,
    )
    return result


def reject_candidate(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    *,
    task_id: int | None = None,
) -> EditResult:
    """Mark a candidate as rejected (a false positive); it stays in its layer for the KPIs."""
    loaded, task = open_edit(session, actor, track_id, expected_version, task_id, candidate_source=True)
    _require_candidate(loaded)
    values = {"status": TrackStatus.REJECTED.value}
    return apply_edit(session, actor, "candidate_rejected", loaded, task, expected_version, values)
