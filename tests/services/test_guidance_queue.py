"""Guidance and nudges on a stored real scene (KITTI tracking 0001), SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.guidance.memo import GuidanceMemo
from labelpilot.services import track_edits
from labelpilot.services.errors import ForbiddenError, InvalidError, NotFoundError
from labelpilot.services.guidance_queue import default_candidate_layers, guidance, proposed_life, task_nudges
from labelpilot.store.tables import LayerRow, TrackRow
from tests.services.automation_world import (
    DETECTIONS,
    TRACKER,
    World,
    make_autolabelled_world,
    make_world,
    parked_car,
    parked_car_keyframes,
)

CANDIDATES = f"candidates:{DETECTIONS}"
ACTION_KEYS = {"kind", "reason", "track_id", "frame", "view", "keyframes", "saves_seconds", "priority", "key"}
FIRST_EDITS = 6
"""Keyframes ann sets on consecutive frames before the first look at the nudges."""


@pytest.fixture
def world(db_factory: sessionmaker[Session], tmp_path: Path) -> World:
    return make_autolabelled_world(db_factory, tmp_path / "blobs")


@pytest.fixture
def plain_world(db_factory: sessionmaker[Session], tmp_path: Path) -> World:
    """KITTI 0001 stored with ann's task, nothing run on it."""
    return make_world(db_factory, tmp_path / "blobs", "kitti")


def test_default_candidate_layers_prefer_built_candidates() -> None:
    names = ["ground_truth", "auto:pointrcnn", TRACKER, "work"]
    assert default_candidate_layers(names) == ["auto:pointrcnn", TRACKER]
    assert default_candidate_layers([*names, CANDIDATES]) == [CANDIDATES]
    assert default_candidate_layers(["ground_truth", "work"]) == []


def test_guidance_for_a_task_never_depends_on_ground_truth(
    db_factory: sessionmaker[Session], world: World
) -> None:
    team = world.team
    with db_factory.begin() as s:
        actions = guidance(s, world.blobs, team.ann, world.scene_id, task_id=world.task_id)
        json.dumps(actions)
        assert len(actions) > 10
        assert all(set(a) >= ACTION_KEYS for a in actions)
        priorities = [a["priority"] for a in actions]
        assert priorities == sorted(priorities, reverse=True)
        on_candidates = [a for a in actions if a["kind"] in ("confirm_stationary", "confirm_moving")]
        assert on_candidates and {a["track_id"] for a in on_candidates} <= set(_candidate_ids(s, world))
        assert {a["layer"] for a in on_candidates} == {CANDIDATES}
        assert (
            guidance(s, world.blobs, team.ann, world.scene_id, task_id=world.task_id, limit=3) == actions[:3]
        )
    with db_factory.begin() as s:
        s.execute(
            delete(LayerRow).where(LayerRow.scene_id == world.scene_id, LayerRow.name == "ground_truth")
        )
    with db_factory.begin() as s:
        assert guidance(s, world.blobs, team.ann, world.scene_id, task_id=world.task_id) == actions

    with db_factory.begin() as s:
        for hidden_from in (team.abe, team.outsider):
            with pytest.raises(NotFoundError):
                guidance(s, world.blobs, hidden_from, world.scene_id, task_id=world.task_id)
        for bad in ({"work_layer": "ground_truth"}, {"candidate_layers": ["ground_truth"]}, {"limit": 0}):
            with pytest.raises(InvalidError):
                guidance(s, world.blobs, team.manager, world.scene_id, **bad)  # type: ignore[arg-type]
        with pytest.raises(NotFoundError):
            guidance(s, world.blobs, team.manager, world.scene_id, candidate_layers=["auto:missing"])
        with pytest.raises(NotFoundError):
            guidance(s, world.blobs, team.manager, world.scene_id, task_id=world.task_id + 1000)
        with pytest.raises(NotFoundError):
            task_nudges(s, world.blobs, team.manager, world.task_id + 1000)
        with pytest.raises(ForbiddenError):  # abe may not read ann's task
            task_nudges(s, world.blobs, team.abe, world.task_id)


def test_the_queue_memo_keeps_the_queue_across_requests_and_edits(
    db_factory: sessionmaker[Session], world: World
) -> None:
    team, memo = world.team, GuidanceMemo()

    def queue(s: Session, with_memo: GuidanceMemo | None = memo) -> list[dict[str, Any]]:
        return guidance(s, world.blobs, team.ann, world.scene_id, task_id=world.task_id, memo=with_memo)

    with db_factory.begin() as s:
        first = queue(s)
        cold = memo.misses
        assert cold >= len(first) > 10 and memo.hits == 0
        # The next request loads the scene afresh: every track's actions are found, none recomputed.
        assert queue(s) == first and (memo.hits, memo.misses) == (cold, cold)
        assert queue(s, None) == first
        # The process-wide memo (the default) too.
        default = guidance(s, world.blobs, team.ann, world.scene_id, task_id=world.task_id)
        assert default == first == guidance(s, world.blobs, team.ann, world.scene_id, task_id=world.task_id)
        action = next(a for a in first if a["kind"] == "confirm_moving")
        candidate = s.get(TrackRow, int(action["track_id"]))
        assert candidate is not None
        confirmed = track_edits.confirm_candidate(
            s, team.ann, candidate.id, candidate.version, keyframes=action["keyframes"], task_id=world.task_id
        )
        copy = str(confirmed.track["id"])
    with db_factory.begin() as s:
        after = queue(s)
        assert after == queue(s, GuidanceMemo()) == queue(s, None)
        assert after != first and action["track_id"] not in {a["track_id"] for a in after}
        assert "accept_life" in {a["kind"] for a in after if a["track_id"] == copy}
        assert guidance(s, world.blobs, team.ann, world.scene_id, task_id=world.task_id) == after
        # One track's life alone: the queue's items for it, found in the memo the queue filled.
        hits = memo.hits
        life = proposed_life(s, world.blobs, team.ann, int(copy), task_id=world.task_id, memo=memo)
        assert life == [
            a for a in after if a["track_id"] == copy and a["kind"] in ("accept_life", "check_end")
        ]
        assert life == proposed_life(s, world.blobs, team.ann, int(copy), task_id=world.task_id, memo=None)
        assert memo.hits == hits + 1


def _candidate_ids(s: Session, world: World, layer: str = CANDIDATES) -> list[str]:
    query = (
        select(TrackRow.id)
        .join(LayerRow, LayerRow.id == TrackRow.layer_id)
        .where(LayerRow.scene_id == world.scene_id, LayerRow.name == layer)
        .order_by(TrackRow.id)
    )
    return [str(i) for i in s.scalars(query)]


def test_confirmed_measured_and_keyed_tracks_in_guidance_and_nudges(
    db_factory: sessionmaker[Session], plain_world: World
) -> None:
    world, team = plain_world, plain_world.team
    tracker = [TRACKER]  # real tracker output as the candidates (the API test covers the defaults)
    with db_factory.begin() as s:
        assert task_nudges(s, world.blobs, team.ann, world.task_id) == []
        first, second = _candidate_ids(s, world, TRACKER)[:2]
        copies = [
            str(track_edits.confirm_candidate(s, team.ann, int(c), 1, task_id=world.task_id).track["id"])
            for c in (first, second)
        ]
        resized = track_edits.update_track(
            s, team.ann, int(copies[0]), 1, size=[4.1, 1.7, 1.5], task_id=world.task_id
        )
        assert resized.track["size"] == [4.1, 1.7, 1.5]
        # The tracker keys its tracks at every frame, and a keyframe next to a measurement view means
        # a person saw the box there: held as one world box instead, the second has views to measure.
        track_edits.make_stationary(s, team.ann, int(copies[1]), 1, task_id=world.task_id)
    with db_factory.begin() as s:
        actions = guidance(
            s, world.blobs, team.ann, world.scene_id, task_id=world.task_id, candidate_layers=tracker
        )
        assert not {first, second} & {a["track_id"] for a in actions}  # confirmed: no longer pending
        measured = {a["track_id"] for a in actions if a["kind"] == "measure"}
        assert copies[1] in measured and copies[0] not in measured  # its size was set in the task

    # ann draws the parked car at its first frame, then keys it frame by frame: the slow path.
    keyed = parked_car_keyframes()
    with db_factory.begin() as s:
        created = track_edits.create_track(
            s, team.ann, world.scene_id, "work", "Car", list(parked_car().size),
            keyframes={str(keyed[0][0]): keyed[0][1]}, task_id=world.task_id,
        )  # fmt: skip
    track_id, version = int(created.track["id"]), 1

    def key(frames: list[tuple[int, list[float]]]) -> list[dict[str, Any]]:
        nonlocal version
        with db_factory.begin() as s:
            for frame, pose in frames:
                result = track_edits.set_keyframe(
                    s, team.ann, track_id, version, frame, pose, task_id=world.task_id
                )
                version = result.track["version"]
            return task_nudges(s, world.blobs, team.ann, world.task_id)

    early = key(keyed[1:FIRST_EDITS])
    assert early and {n["track_id"] for n in early} == {str(track_id)}
    assert {n["kind"] for n in early} <= {"make_stationary", "use_keyframes"}
    nudges = key(keyed[FIRST_EDITS:])
    with db_factory.begin() as s:
        json.dumps(nudges)
        assert [(n["kind"], n["track_id"]) for n in nudges] == [("make_stationary", str(track_id))]
        (nudge,) = nudges
        assert set(nudge) == {"kind", "message", "track_id", "action", "saves_seconds"}
        assert nudge["action"]["kind"] == "confirm_stationary" and nudge["action"]["track_id"] == str(
            track_id
        )
        assert nudge["saves_seconds"] >= 0 and str(track_id) in nudge["message"]
        assert task_nudges(s, world.blobs, team.reviewer, world.task_id) == nudges
        # Following it ends the slow path: the track is one world box, and the nudge goes away.
        track_edits.make_stationary(s, team.ann, track_id, version, task_id=world.task_id)
    with db_factory.begin() as s:
        assert task_nudges(s, world.blobs, team.ann, world.task_id) == []
