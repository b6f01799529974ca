"""Candidate tracks (from auto:* layers or proposed in a work layer): confirm or reject them, or
take the decision back (reopen).

Confirming is the main path from automation to delivered shapes, so it is recorded as its own
event kind (``candidate_confirmed``) that the KPIs count; a reopen (``candidate_reopened``) is the
event that cancels it, so a decision undone in the editor is not counted as work delivered.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.automation.keyframes import keyframed_track
from labelpilot.guidance.review_actions import JUDGED_FRAME
from labelpilot.services.actors import Actor
from labelpilot.services.codec import track_from_rows
from labelpilot.services.errors import ConflictError, InvalidError
from labelpilot.services.track_edit_input import is_auto_layer
from labelpilot.services.track_edit_store import (
    EditResult,
    LoadedTrack,
    apply_edit,
    authorise_edit,
    ensure_layer,
    insert_track,
    keyframes_json,
    open_edit,
    record_edit,
    result_of,
    write_versioned,
)
from labelpilot.store.tables import KeyframeRow, LayerRow, TrackRow
from labelpilot.tracks import Keyframed, Provenance, Track, TrackStatus

DEFAULT_WORK_LAYER = "work"


def _require_candidate(loaded: LoadedTrack) -> None:
    if loaded.row.status != TrackStatus.CANDIDATE.value:
        raise ConflictError(
            f"track {loaded.row.id} is {loaded.row.status}, not a candidate", current=loaded.to_json()
        )


def copy_key(candidate_id: int) -> str:
    """The key of the track a confirmation copies a candidate of an ``auto:*`` layer into."""
    return f"candidate-{candidate_id}"


def _rekeyed(track: Track, keyframes: Any) -> Track:
    """``track`` keyed at ``keyframes`` (None: as it is)."""
    if keyframes is None:
        return track
    if (
        not isinstance(keyframes, list | tuple)
        or not keyframes
        or any(isinstance(f, bool) or not isinstance(f, int) for f in keyframes)
    ):
        raise InvalidError("keyframes must be a non-empty list of frame indices", field="keyframes")
    if track.is_stationary:
        raise InvalidError("a stationary candidate has no keyframes; confirm it without", field="keyframes")
    frames = sorted(set(keyframes))
    missing = [f for f in frames if not track.has_shape(f)]
    if missing:
        raise InvalidError(f"the candidate has no shape at frames {missing[:10]}", field="keyframes")
    return keyframed_track(track, frames)


def _judged_frame(value: Any, track: Track) -> dict[str, int]:
    """The attribute recording where the person judged the candidate's box (none when not given)."""
    if value is None:
        return {}
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidError(f"judged_frame must be a frame index, got {value!r}", field="judged_frame")
    if not track.has_shape(value):
        raise InvalidError(
            f"judged_frame: the candidate has no shape at frame {value} "
            f"(its life is {track.first_frame}..{track.last_frame})",
            field="judged_frame",
        )
    return {JUDGED_FRAME: value}


def confirm_candidate(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    *,
    keyframes: Any = None,
    judged_frame: Any = None,
    task_id: int | None = None,
) -> EditResult:
    """Accept a candidate track.

    With ``keyframes`` (frames where the candidate has a shape, e.g. the guidance's suggestion) the
    accepted track is keyed at those frames only, with the candidate's boxes there, and the editor's
    world-frame interpolation fills the frames between: auto labels as guidance, not as output.
    ``judged_frame`` is the frame on screen when the person decided (the editor sends it): kept as the
    track's attribute ``judged_frame``, so that the guidance queue offers no measurement where the
    box was judged at its best view (``guidance.review_actions``).

    A candidate of an ``auto:*`` layer is copied into the task's layer (``work`` without a task) as a
    confirmed track with provenance ("candidate", <auto layer>), and the candidate itself is marked
    confirmed; the result is the copy, with the candidate's new state in ``candidate``. A candidate
    in any other layer is confirmed in place.
    """
    loaded, task = open_edit(session, actor, track_id, expected_version, task_id, candidate_source=True)
    _require_candidate(loaded)
    keyframe_rows = [KeyframeRow(frame=f, world_pose=p) for f, p in loaded.keyframes.items()]
    candidate = track_from_rows(loaded.row, keyframe_rows)
    judged = _judged_frame(judged_frame, candidate)
    accepted = _rekeyed(candidate, keyframes)
    confirmed: dict[str, Any] = {"status": TrackStatus.CONFIRMED.value}
    if not is_auto_layer(loaded.layer.name):
        if judged:
            confirmed["attributes"] = {**(loaded.row.attributes or {}), **judged}
        new_keys = None
        if keyframes is not None:
            assert isinstance(accepted.motion, Keyframed)
            new_keys = keyframes_json(accepted.motion.keyframes)
        return apply_edit(
            session, actor, "candidate_confirmed", loaded, task, expected_version, confirmed, new_keys
        )
    target = task.layer if task is not None else DEFAULT_WORK_LAYER
    authorise_edit(session, actor, loaded.scene, target, task_id)
    before = loaded.to_json()
    copy = dataclasses.replace(
        accepted,
        track_id=copy_key(track_id),
        provenance=Provenance("candidate", loaded.layer.name),
        status=TrackStatus.CONFIRMED,
        attributes={**accepted.attributes, **judged},
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


def _live_copy(session: Session, loaded: LoadedTrack) -> int | None:
    """The id of a live (not deleted) track a confirmation copied this candidate into, if any."""
    return session.scalar(
        select(TrackRow.id)
        .join(LayerRow, LayerRow.id == TrackRow.layer_id)
        .where(
            LayerRow.scene_id == loaded.scene.id,
            TrackRow.key == copy_key(loaded.row.id),
            TrackRow.provenance_kind == "candidate",
            TrackRow.provenance_source == loaded.layer.name,
            TrackRow.deleted.is_(False),
        )
        .limit(1)
    )


def reopen_candidate(
    session: Session,
    actor: Actor,
    track_id: int,
    expected_version: int,
    *,
    task_id: int | None = None,
) -> EditResult:
    """Take back the decision on a candidate of an ``auto:*`` or ``candidates:*`` layer: a confirmed
    or rejected candidate is a candidate again (the editor's undo of a confirm or a reject).

    Whoever may confirm or reject it may reopen it. Refused with a ConflictError when it is still a
    candidate, and while the track its confirmation copied into a work layer is live: that copy is
    delivered work, so it is deleted first (a separate edit), and a candidate is never pending and
    delivered at once.
    """
    loaded, task = open_edit(session, actor, track_id, expected_version, task_id, candidate_source=True)
    if not is_auto_layer(loaded.layer.name):
        raise InvalidError(
            f"track {track_id} is in layer {loaded.layer.name!r}; only candidates of auto:* and "
            "candidates:* layers are reopened",
            field="track_id",
        )
    if loaded.row.status == TrackStatus.CANDIDATE.value:
        raise ConflictError(f"track {track_id} is already a candidate", current=loaded.to_json())
    copy = _live_copy(session, loaded)
    if copy is not None:
        raise ConflictError(
            f"candidate {track_id} was confirmed as track {copy}; delete that track before reopening it",
            current=loaded.to_json(),
        )
    values = {"status": TrackStatus.CANDIDATE.value}
    return apply_edit(session, actor, "candidate_reopened", loaded, task, expected_version, values)


MAX_BATCH = 5_000
"""Candidates one batch decision may take (the queue's suggested false positives of a scene)."""


def _batch(items: Sequence[tuple[int, int]]) -> None:
    if not items:
        raise InvalidError("name at least one candidate", field="tracks")
    if len(items) > MAX_BATCH:
        raise InvalidError(f"at most {MAX_BATCH} candidates at once, got {len(items)}", field="tracks")
    counts = Counter(track_id for track_id, _ in items)
    repeated = sorted(i for i, n in counts.items() if n > 1)
    if repeated:
        raise InvalidError(f"candidates named twice: {repeated}", field="tracks")


def reject_candidates(
    session: Session, actor: Actor, items: Sequence[tuple[int, int]], *, task_id: int | None = None
) -> list[EditResult]:
    """Reject every candidate of ``items`` ((track id, expected version) pairs) as a false positive:
    the editor's "reject every suggested false positive". Each is an edit of its own (versioned,
    recorded as ``candidate_rejected``); the first refusal raises and the caller's transaction writes
    none of them."""
    _batch(items)
    return [reject_candidate(session, actor, i, v, task_id=task_id) for i, v in items]


def reopen_candidates(
    session: Session, actor: Actor, items: Sequence[tuple[int, int]], *, task_id: int | None = None
) -> list[EditResult]:
    """Take back the decisions on every candidate of ``items`` (the undo of ``reject_candidates``);
    all or nothing like it."""
    _batch(items)
    return [reopen_candidate(session, actor, i, v, task_id=task_id) for i, v in items]
