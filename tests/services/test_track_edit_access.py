"""Who may edit which track, and concurrent edits of one track (exactly one writer wins)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import tasks, track_edits
from labelpilot.services.actors import Actor
from labelpilot.services.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from labelpilot.store.tables import EventRow, LayerRow, TrackRow
from tests.services.scene_rows import (
    GROUND_TRUTH,
    TRACKER_LAYER,
    EditScene,
    confirmed_copy,
    events_of,
    insert_scene,
    stored_json,
)

POSE = {"center": [12.0, -3.0, 0.9], "yaw": 1.2}


def test_annotators_edit_only_their_task_layer_in_progress(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    team, stored = edit_scene.team, edit_scene.stored
    copy = confirmed_copy(db_factory, edit_scene)
    ground_truth = stored.track_ids[(GROUND_TRUTH, "5")]
    with db_factory.begin() as s:
        abes = tasks.create_task(
            s, team.manager, team.project_id, stored.scene_id, "annotate", assignee="abe"
        )
        tasks.start_task(s, team.abe, abes.id)
        queued = tasks.create_task(
            s, team.manager, team.project_id, stored.scene_id, "practice", assignee="ann"
        )
        review_layer = track_edits.create_track(
            s, team.reviewer, stored.scene_id, "review", "Car", [4, 2, 1.5], stationary_pose=POSE
        ).track["id"]

    def refused(error: type[Exception], edit: Callable[[Session], Any]) -> None:
        with db_factory.begin() as s:
            before = stored_json(s, copy)
            with pytest.raises(error):
                edit(s)
            assert stored_json(s, copy) == before

    ann = team.ann
    refused(ForbiddenError, lambda s: track_edits.update_track(s, ann, copy, 1, label="Van"))  # no task
    refused(ForbiddenError, lambda s: track_edits.update_track(s, ann, copy, 1, label="Van", task_id=abes.id))
    refused(
        ForbiddenError, lambda s: track_edits.update_track(s, ann, copy, 1, label="Van", task_id=queued.id)
    )
    refused(ForbiddenError, lambda s: track_edits.update_track(s, team.coach, copy, 1, label="Van"))
    refused(NotFoundError, lambda s: track_edits.update_track(s, team.outsider, copy, 1, label="Van"))
    refused(NotFoundError, lambda s: track_edits.update_track(s, ann, copy, 1, label="Van", task_id=424242))
    # ground_truth is read-only even inside the annotator's own task; so is another layer.
    refused(
        ForbiddenError,
        lambda s: track_edits.delete_track(s, ann, ground_truth, 1, task_id=edit_scene.task_id),
    )
    refused(
        ForbiddenError,
        lambda s: track_edits.delete_track(s, ann, review_layer, 1, task_id=edit_scene.task_id),
    )
    refused(
        ForbiddenError,
        lambda s: track_edits.create_track(
            s,
            ann,
            stored.scene_id,
            GROUND_TRUTH,
            "Car",
            [4, 2, 1.5],
            stationary_pose=POSE,
            task_id=edit_scene.task_id,
        ),
    )
    with db_factory.begin() as s:
        other_scene = insert_scene(s, team.project_id, layers=())
        elsewhere = tasks.create_task(
            s, team.manager, team.project_id, other_scene.scene_id, "annotate", assignee="ann"
        )
        tasks.start_task(s, ann, elsewhere.id)
    refused(
        InvalidError, lambda s: track_edits.update_track(s, ann, copy, 1, label="Van", task_id=elsewhere.id)
    )
    with db_factory.begin() as s:
        assert (
            track_edits.update_track(s, ann, copy, 1, label="Van", task_id=edit_scene.task_id).track[
                "version"
            ]
            == 2
        )
        tasks.submit_task(s, ann, edit_scene.task_id)
    # A submitted task is closed for edits.
    refused(
        ForbiddenError,
        lambda s: track_edits.update_track(s, ann, copy, 2, label="Car", task_id=edit_scene.task_id),
    )


def test_staff_edit_any_layer_but_ground_truth_belongs_to_admins(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    team, stored = edit_scene.team, edit_scene.stored
    copy = confirmed_copy(db_factory, edit_scene)
    ground_truth = stored.track_ids[(GROUND_TRUTH, "5")]
    candidate = stored.track_ids[(TRACKER_LAYER, "28")]  # not the one confirmed_copy took
    with db_factory.begin() as s:
        assert track_edits.update_track(s, team.reviewer, copy, 1, label="Van").track["label"] == "Van"
        assert track_edits.update_track(s, team.manager, copy, 2, label="Truck").track["version"] == 3
        # Staff may edit auto layers (e.g. fix a candidate before confirming it) and confirm into work.
        assert (
            track_edits.update_track(s, team.reviewer, candidate, 1, size=[4.5, 1.9, 1.6]).track["version"]
            == 2
        )
        confirmed = track_edits.confirm_candidate(s, team.reviewer, candidate, 2)
        assert confirmed.track["size"] == [4.5, 1.9, 1.6]
        assert confirmed.track["provenance"]["source"] == TRACKER_LAYER
        for staff in (team.reviewer, team.manager):
            with pytest.raises(ForbiddenError):
                track_edits.update_track(s, staff, ground_truth, 1, label="Van")
        assert track_edits.update_track(s, team.admin, ground_truth, 1, label="Van").track["version"] == 2
        events = list(s.scalars(select(EventRow).where(EventRow.user_id == team.admin.user_id)))
        assert [e.kind for e in events] == ["track_updated"]


ROUNDS = 8


def race(
    db_factory: sessionmaker[Session], edits: Sequence[Callable[[Session], Any]]
) -> tuple[list[int], list[ConflictError]]:
    """Run each edit in its own thread and session at the same moment; who won, who was refused."""
    barrier = threading.Barrier(len(edits))
    won: list[int] = []
    refused: list[ConflictError] = []
    unexpected: list[BaseException] = []

    def run(index: int, edit: Callable[[Session], Any]) -> None:
        try:
            barrier.wait()
            with db_factory.begin() as s:
                edit(s)
            won.append(index)
        except ConflictError as conflict:
            refused.append(conflict)
        except BaseException as error:  # reported in the main thread
            unexpected.append(error)

    threads = [threading.Thread(target=run, args=(i, edit)) for i, edit in enumerate(edits)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not unexpected, unexpected
    return won, refused


def test_concurrent_edits_of_one_track_exactly_one_wins(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    copy = confirmed_copy(db_factory, edit_scene)
    ann, reviewer, task = edit_scene.team.ann, edit_scene.team.reviewer, edit_scene.task_id
    with db_factory.begin() as s:
        frame = stored_json(s, copy)["first_frame"] + 1
    wins = 0
    for round_number in range(ROUNDS):
        with db_factory.begin() as s:
            version = stored_json(s, copy)["version"]
        poses = [{"center": [float(round_number), float(i), 0.5], "yaw": 0.1 * i} for i in range(2)]
        actors: list[tuple[Actor, int | None]] = [(ann, task), (reviewer, None)]
        edits = [
            partial(
                track_edits.set_keyframe,
                actor=actor,
                track_id=copy,
                expected_version=version,
                frame=frame,
                pose=pose,
                task_id=task_id,
            )
            for (actor, task_id), pose in zip(actors, poses, strict=True)
        ]
        won, refused = race(db_factory, edits)
        assert len(won) == 1 and len(refused) == 1, (won, refused)
        with db_factory.begin() as s:
            now = stored_json(s, copy)
        # The loser saw the state the winner left (or the winner's version), and nothing was half-applied.
        assert refused[0].current["version"] in (version, version + 1)
        assert now["version"] == version + 1
        winner_center = poses[won[0]]["center"]
        assert [now["keyframes"][str(frame)][i] for i in (3, 7, 11)] == winner_center
        wins += 1
    with db_factory.begin() as s:
        assert stored_json(s, copy)["version"] == 1 + ROUNDS
        assert [e.kind for e in events_of(s, copy)].count("keyframe_set") == wins == ROUNDS


def test_concurrent_different_edits_of_one_track(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    """A size change and a make-stationary on the same version: one lands whole, the other not at all."""
    copy = confirmed_copy(db_factory, edit_scene)
    reviewer, manager = edit_scene.team.reviewer, edit_scene.team.manager
    for round_number in range(ROUNDS):
        with db_factory.begin() as s:
            before = stored_json(s, copy)
        size = [4.0 + round_number / 10, 1.8, 1.5]
        switch = track_edits.make_moving if before["stationary"] else track_edits.make_stationary
        won, refused = race(
            db_factory,
            [
                partial(
                    track_edits.update_track,
                    actor=reviewer,
                    track_id=copy,
                    expected_version=before["version"],
                    size=size,
                ),
                partial(switch, actor=manager, track_id=copy, expected_version=before["version"]),
            ],
        )
        assert len(won) == 1 and len(refused) == 1
        with db_factory.begin() as s:
            after = stored_json(s, copy)
        assert after["version"] == before["version"] + 1
        if won == [0]:
            assert after["size"] == size and after["stationary"] == before["stationary"]
        else:
            assert after["size"] == before["size"] and after["stationary"] != before["stationary"]
    with db_factory.begin() as s:
        row = s.get(TrackRow, copy)
        assert row is not None and row.version == 1 + ROUNDS
        assert len(events_of(s, copy)) == 1 + ROUNDS  # the confirmation and one event per winning edit


def test_a_candidate_confirmed_twice_at_once_is_copied_once(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    team, stored = edit_scene.team, edit_scene.stored
    keys = [key for layer, key in stored.track_ids if layer == TRACKER_LAYER][:ROUNDS]
    for key in keys:
        candidate = stored.track_ids[(TRACKER_LAYER, key)]
        won, refused = race(
            db_factory,
            [
                partial(
                    track_edits.confirm_candidate,
                    actor=team.ann,
                    track_id=candidate,
                    expected_version=1,
                    task_id=edit_scene.task_id,
                ),
                partial(
                    track_edits.confirm_candidate, actor=team.reviewer, track_id=candidate, expected_version=1
                ),
            ],
        )
        assert len(won) == 1 and len(refused) == 1
    with db_factory.begin() as s:
        copies = list(
            s.scalars(
                select(TrackRow)
                .join(LayerRow)
                .where(LayerRow.scene_id == stored.scene_id, LayerRow.name == "work")
            )
        )
        assert sorted(row.key for row in copies) == sorted(
            f"candidate-{stored.track_ids[(TRACKER_LAYER, key)]}" for key in keys
        )
        confirmations = s.scalars(select(EventRow.kind).where(EventRow.kind == "candidate_confirmed")).all()
        assert len(confirmations) == len(keys)
