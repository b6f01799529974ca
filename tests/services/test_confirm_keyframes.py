"""Confirming a candidate at suggested keyframes: the candidate's boxes there, interpolation between."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.automation.keyframes import suggest_for_track
from labelpilot.guidance.review_actions import JUDGED_FRAME
from labelpilot.services import track_edits
from labelpilot.services.errors import InvalidError
from labelpilot.tracks import world_shapes
from tests.services.scene_rows import (
    TRACKER_LAYER,
    EditScene,
    kitti_scene,
    longest_candidate,
    stored_json,
)


def test_confirm_at_suggested_keyframes_keys_the_copy_there(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    key = longest_candidate()
    domain = kitti_scene().layers[TRACKER_LAYER].track(key)
    suggested = suggest_for_track(domain)
    assert 2 <= len(suggested) < len(domain.frames()) // 2  # a real reduction, not every frame
    candidate_id = edit_scene.stored.track_ids[(TRACKER_LAYER, key)]
    with db_factory.begin() as s:
        result = track_edits.confirm_candidate(
            s, edit_scene.team.ann, candidate_id, 1, keyframes=list(suggested), task_id=edit_scene.task_id
        )
        assert stored_json(s, result.track["id"]) == result.track
    copy = result.track
    assert sorted(int(f) for f in copy["keyframes"]) == sorted(suggested)
    assert (copy["first_frame"], copy["last_frame"]) == (domain.first_frame, domain.last_frame)
    own = world_shapes(domain)
    rows = {int(f): i for i, f in enumerate(own.frames)}
    got = {int(f): i for i, f in enumerate(result.shapes.frames)}
    for frame in suggested:  # the candidate's boxes at the keyframes ...
        np.testing.assert_allclose(
            result.shapes.cuboids.centers[got[frame]], own.cuboids.centers[rows[frame]], atol=1e-9
        )
    # ... and the suggestion reproduces the rest of the candidate within half a metre.
    shared = sorted(set(rows) & set(got))
    gaps = [
        np.linalg.norm(result.shapes.cuboids.centers[got[f]] - own.cuboids.centers[rows[f]]) for f in shared
    ]
    assert max(gaps) < 0.5
    assert not np.allclose(
        result.shapes.cuboids.centers[[got[f] for f in shared]],
        own.cuboids.centers[[rows[f] for f in shared]],
    )


def test_confirm_refuses_keyframes_where_the_candidate_has_no_shape(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    key = longest_candidate()
    domain = kitti_scene().layers[TRACKER_LAYER].track(key)
    candidate_id = edit_scene.stored.track_ids[(TRACKER_LAYER, key)]
    with db_factory.begin() as s:
        for bad in ([domain.last_frame + 1], [], ["3"]):
            with pytest.raises(InvalidError) as refused:
                track_edits.confirm_candidate(
                    s, edit_scene.team.ann, candidate_id, 1, keyframes=bad, task_id=edit_scene.task_id
                )
            assert refused.value.field == "keyframes"
        assert stored_json(s, candidate_id)["status"] == "candidate"


def test_confirm_keeps_the_frame_where_the_box_was_judged(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    key = longest_candidate()
    domain = kitti_scene().layers[TRACKER_LAYER].track(key)
    candidate_id = edit_scene.stored.track_ids[(TRACKER_LAYER, key)]
    judged = domain.frames()[len(domain.frames()) // 2]
    with db_factory.begin() as s:
        for bad in (domain.last_frame + 1, "3", True):
            with pytest.raises(InvalidError) as refused:
                track_edits.confirm_candidate(
                    s, edit_scene.team.ann, candidate_id, 1, judged_frame=bad, task_id=edit_scene.task_id
                )
            assert refused.value.field == "judged_frame"
        assert stored_json(s, candidate_id)["status"] == "candidate"
        result = track_edits.confirm_candidate(
            s, edit_scene.team.ann, candidate_id, 1, judged_frame=judged, task_id=edit_scene.task_id
        )
        assert stored_json(s, result.track["id"]) == result.track
    assert result.track["attributes"][JUDGED_FRAME] == judged
