"""Taking back a decision on a candidate (the editor's undo): reopen after a reject and after a confirm."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import tasks, track_edits
from labelpilot.services.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from tests.services.scene_rows import (
    TRACKER_LAYER,
    EditScene,
    events_of,
    kitti_scene,
    longest_candidate,
    stored_json,
)


def _candidate(scene: EditScene, key: str | None = None) -> int:
    return scene.stored.track_ids[(TRACKER_LAYER, key or longest_candidate())]


def _refused(
    db_factory: sessionmaker[Session], track_id: int, error: type[Exception], edit: Callable[[Session], Any]
) -> Exception:
    """The edit raises ``error`` and leaves the stored track as it was; answers the error."""
    with db_factory.begin() as s:
        before = stored_json(s, track_id)
        with pytest.raises(error) as raised:
            edit(s)
        assert stored_json(s, track_id) == before
    return raised.value


def test_a_rejected_candidate_is_reopened_and_can_be_decided_again(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    ann, task_id = edit_scene.team.ann, edit_scene.task_id
    candidate = _candidate(edit_scene)
    with db_factory.begin() as s:
        original = stored_json(s, candidate)
        rejected = track_edits.reject_candidate(s, ann, candidate, 1, task_id=task_id)
        assert rejected.track["status"] == "rejected"
    with db_factory.begin() as s:
        reopened = track_edits.reopen_candidate(s, ann, candidate, 2, task_id=task_id)
        stored = stored_json(s, candidate)
    assert stored == reopened.track
    assert stored["status"] == "candidate" and stored["version"] == 3
    # Nothing but the status and the version changed: the candidate's boxes are the imported ones.
    assert {k: v for k, v in stored.items() if k not in ("status", "version")} == {
        k: v for k, v in original.items() if k not in ("status", "version")
    }
    source = next(t for t in kitti_scene().layers[TRACKER_LAYER] if t.track_id == longest_candidate())
    assert reopened.shapes.frames.tolist() == source.frames()
    with db_factory.begin() as s:
        kinds = [(e.kind, e.task_id, e.user_id) for e in events_of(s, candidate)]
        last = events_of(s, candidate)[-1]
    assert kinds == [
        ("candidate_rejected", task_id, ann.user_id),
        ("candidate_reopened", task_id, ann.user_id),
    ]
    assert last.payload["before"]["status"] == "rejected" and last.payload["after"]["status"] == "candidate"

    # A candidate again: it can be rejected again, then reopened again.
    with db_factory.begin() as s:
        assert (
            track_edits.reject_candidate(s, ann, candidate, 3, task_id=task_id).track["status"] == "rejected"
        )
        assert (
            track_edits.reopen_candidate(s, ann, candidate, 4, task_id=task_id).track["status"] == "candidate"
        )


def test_a_confirmed_candidate_is_reopened_once_its_copy_is_deleted(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    ann, task_id = edit_scene.team.ann, edit_scene.task_id
    candidate = _candidate(edit_scene)
    with db_factory.begin() as s:
        confirmed = track_edits.confirm_candidate(s, ann, candidate, 1, task_id=task_id)
    copy = int(confirmed.track["id"])
    assert confirmed.candidate is not None and confirmed.candidate["status"] == "confirmed"

    # While the copy is live the candidate is delivered work: reopening it is refused.
    error = _refused(
        db_factory,
        candidate,
        ConflictError,
        lambda s: track_edits.reopen_candidate(s, ann, candidate, 2, task_id=task_id),
    )
    assert isinstance(error, ConflictError) and error.current["status"] == "confirmed"
    assert str(copy) in error.message

    with db_factory.begin() as s:
        track_edits.delete_track(s, ann, copy, 1, task_id=task_id)
        reopened = track_edits.reopen_candidate(s, ann, candidate, 2, task_id=task_id)
    assert (reopened.track["status"], reopened.track["version"]) == ("candidate", 3)

    # Confirmed again (the editor's redo): a new copy with the candidate's provenance.
    with db_factory.begin() as s:
        again = track_edits.confirm_candidate(s, ann, candidate, 3, task_id=task_id)
        copy_again = stored_json(s, int(again.track["id"]))
        assert stored_json(s, copy)["deleted"] is True
    assert int(again.track["id"]) != copy
    assert copy_again["provenance"] == {"kind": "candidate", "source": TRACKER_LAYER}
    assert copy_again["key"] == f"candidate-{candidate}" and copy_again["status"] == "confirmed"
    assert copy_again["keyframes"] == confirmed.track["keyframes"]


def test_reopen_is_refused_for_a_pending_candidate_and_for_people_who_may_not_decide(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    team, task_id = edit_scene.team, edit_scene.task_id
    pending = _candidate(edit_scene)
    error = _refused(
        db_factory,
        pending,
        ConflictError,
        lambda s: track_edits.reopen_candidate(s, team.ann, pending, 1, task_id=task_id),
    )
    assert isinstance(error, ConflictError) and "already a candidate" in error.message
    assert error.current["status"] == "candidate"

    with db_factory.begin() as s:
        track_edits.reject_candidate(s, team.ann, pending, 1, task_id=task_id)
        abes = tasks.create_task(
            s, team.manager, team.project_id, edit_scene.stored.scene_id, "annotate", assignee="abe"
        )
        queued = tasks.create_task(
            s, team.manager, team.project_id, edit_scene.stored.scene_id, "annotate", assignee="ann"
        )
    rejected = pending
    refusals: list[tuple[type[Exception], Callable[[Session], Any]]] = [
        (ForbiddenError, lambda s: track_edits.reopen_candidate(s, team.abe, rejected, 2, task_id=task_id)),
        (ForbiddenError, lambda s: track_edits.reopen_candidate(s, team.abe, rejected, 2, task_id=abes.id)),
        (ForbiddenError, lambda s: track_edits.reopen_candidate(s, team.ann, rejected, 2)),  # no task
        (ForbiddenError, lambda s: track_edits.reopen_candidate(s, team.ann, rejected, 2, task_id=queued.id)),
        (ForbiddenError, lambda s: track_edits.reopen_candidate(s, team.coach, rejected, 2)),
        (NotFoundError, lambda s: track_edits.reopen_candidate(s, team.outsider, rejected, 2)),
        (
            ConflictError,
            lambda s: track_edits.reopen_candidate(s, team.ann, rejected, 1, task_id=task_id),
        ),  # stale
    ]
    for error_type, edit in refusals:
        _refused(db_factory, rejected, error_type, edit)

    # A confirmed track of a work layer is not a candidate of a candidate layer: nothing to reopen.
    other = next(
        key
        for (layer, key) in edit_scene.stored.track_ids
        if layer == TRACKER_LAYER and key != longest_candidate()
    )
    with db_factory.begin() as s:
        copy = int(
            track_edits.confirm_candidate(
                s, team.ann, _candidate(edit_scene, other), 1, task_id=task_id
            ).track["id"]
        )
    _refused(
        db_factory,
        copy,
        InvalidError,
        lambda s: track_edits.reopen_candidate(s, team.ann, copy, 1, task_id=task_id),
    )

    # A manager reopens without a task.
    with db_factory.begin() as s:
        assert track_edits.reopen_candidate(s, team.manager, rejected, 2).track["status"] == "candidate"
