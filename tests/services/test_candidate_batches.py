"""Deciding many candidates at once (the editor's "reject every suggested false positive" and its undo):
each is an edit of its own, and the batch is all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import track_edits
from labelpilot.services.errors import ConflictError, ForbiddenError, InvalidError
from labelpilot.services.track_candidates import MAX_BATCH
from tests.services.scene_rows import TRACKER_LAYER, EditScene, events_of, stored_json


def _candidates(scene: EditScene, count: int) -> list[int]:
    ids = sorted(
        track_id for (layer, _), track_id in scene.stored.track_ids.items() if layer == TRACKER_LAYER
    )
    assert len(ids) >= count
    return ids[:count]


def test_a_batch_rejects_each_candidate_and_reopens_them_all(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    ann, task_id = edit_scene.team.ann, edit_scene.task_id
    ids = _candidates(edit_scene, 5)
    with db_factory.begin() as s:
        originals = {i: stored_json(s, i) for i in ids}
        rejected = track_edits.reject_candidates(s, ann, [(i, 1) for i in ids], task_id=task_id)
    assert [int(r.track["id"]) for r in rejected] == ids
    with db_factory.begin() as s:
        for i in ids:
            stored = stored_json(s, i)
            assert (stored["status"], stored["version"]) == ("rejected", 2)
            assert [(e.kind, e.task_id) for e in events_of(s, i)] == [("candidate_rejected", task_id)]
        reopened = track_edits.reopen_candidates(s, ann, [(i, 2) for i in ids], task_id=task_id)
    assert all(r.track["status"] == "candidate" for r in reopened)
    with db_factory.begin() as s:
        for i in ids:
            stored = stored_json(s, i)
            assert stored["version"] == 3
            assert {k: v for k, v in stored.items() if k != "version"} == {
                k: v for k, v in originals[i].items() if k != "version"
            }


def test_one_refusal_writes_none_of_the_batch(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    team, task_id = edit_scene.team, edit_scene.task_id
    ids = _candidates(edit_scene, 4)
    with db_factory.begin() as s:
        before = {i: stored_json(s, i) for i in ids}
    # The third is stale (version 7 was never written): the first two, already rejected in the same
    # transaction, are not rejected either.
    stale = [(ids[0], 1), (ids[1], 1), (ids[2], 7), (ids[3], 1)]
    with pytest.raises(ConflictError) as raised, db_factory.begin() as s:
        track_edits.reject_candidates(s, team.ann, stale, task_id=task_id)
    assert str(ids[2]) in raised.value.message
    with pytest.raises(ForbiddenError), db_factory.begin() as s:
        track_edits.reject_candidates(s, team.coach, [(i, 1) for i in ids])
    with db_factory.begin() as s:
        assert {i: stored_json(s, i) for i in ids} == before
        assert all(events_of(s, i) == [] for i in ids)
    # Reopening a batch of which one is still a candidate is refused as a whole too.
    with db_factory.begin() as s:
        track_edits.reject_candidates(s, team.ann, [(ids[0], 1)], task_id=task_id)
    with pytest.raises(ConflictError, match="already a candidate"), db_factory.begin() as s:
        track_edits.reopen_candidates(s, team.ann, [(ids[0], 2), (ids[1], 1)], task_id=task_id)
    with db_factory.begin() as s:
        assert stored_json(s, ids[0])["status"] == "rejected"


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([], "at least one"),
        ([(1, 1), (1, 1)], "named twice"),
        ([(i, 1) for i in range(1, MAX_BATCH + 2)], f"at most {MAX_BATCH}"),
    ],
)
def test_bad_batches_are_refused(
    db_factory: sessionmaker[Session], edit_scene: EditScene, items: list[tuple[int, int]], message: str
) -> None:
    with pytest.raises(InvalidError, match=message) as raised, db_factory.begin() as s:
        track_edits.reject_candidates(s, edit_scene.team.ann, items, task_id=edit_scene.task_id)
    assert raised.value.field == "tracks"
