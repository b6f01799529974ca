"""The editor's events that are not edits: who records them, which kinds and payloads, and a dismissed
nudge never coming back."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import tasks, track_edits
from labelpilot.services.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from labelpilot.services.guidance_queue import task_nudges
from labelpilot.services.task_events import MAX_PAYLOAD_BYTES, TASK_EVENT_KINDS, record_task_event
from labelpilot.store.tables import EventRow
from tests.services.automation_world import make_world, parked_car, parked_car_keyframes
from tests.services.scene_rows import (
    GROUND_TRUTH,
    TRACKER_LAYER,
    EditScene,
    confirmed_copy,
    insert_scene,
    longest_candidate,
)

CLIENT_KINDS = {
    "nudge_shown",
    "nudge_dismissed",
    "nudge_followed",
    "guidance_item_opened",
    "frame_viewed",
    "heartbeat",
}


def _event_count(db_factory: sessionmaker[Session]) -> int:
    with db_factory.begin() as s:
        return int(s.scalar(select(func.count()).select_from(EventRow)) or 0)


def test_the_assignee_records_each_kind_with_its_payload(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    assert TASK_EVENT_KINDS == CLIENT_KINDS
    ann, task_id, scene_id = edit_scene.team.ann, edit_scene.task_id, edit_scene.stored.scene_id
    work_track = confirmed_copy(db_factory, edit_scene)
    candidate = edit_scene.stored.track_ids[(TRACKER_LAYER, longest_candidate())]
    last_frame = edit_scene.stored.frame_count - 1
    sent: list[tuple[str, dict[str, Any], int | None]] = [
        ("nudge_shown", {"nudge_kind": "make_stationary", "track_id": work_track, "frame": 3}, work_track),
        ("nudge_followed", {"nudge_kind": "use_keyframes", "track_id": work_track}, work_track),
        ("nudge_dismissed", {"nudge_kind": "go_to_measurement_view", "track_id": work_track}, work_track),
        (
            "guidance_item_opened",
            {"action_kind": "confirm_moving", "frame": 0, "track_id": candidate, "index": 2},
            candidate,
        ),
        (
            "guidance_item_opened",
            {"action_kind": "look_at_missed", "frame": last_frame, "track_id": None},
            None,
        ),
        ("frame_viewed", {"frame": last_frame}, None),
        ("heartbeat", {"frame": 7, "interval_s": 30}, None),
        ("heartbeat", {}, None),
    ]
    answers = []
    with db_factory.begin() as s:
        for kind, payload, _ in sent:
            answers.append(record_task_event(s, ann, task_id, kind, payload))
    with db_factory.begin() as s:
        rows = [s.get(EventRow, answer["id"]) for answer in answers]
        for (kind, payload, track_id), answer, row in zip(sent, answers, rows, strict=True):
            assert row is not None
            assert (row.kind, row.task_id, row.scene_id, row.user_id, row.track_id) == (
                kind, task_id, scene_id, ann.user_id, track_id,
            )  # fmt: skip
            expected = {**payload, "interval_s": 30.0} if "interval_s" in payload else payload
            assert row.payload == expected
            assert (answer["kind"], answer["track_id"], answer["payload"]) == (kind, track_id, expected)


@pytest.mark.parametrize(
    ("kind", "payload", "field"),
    [
        ("track_updated", {}, "kind"),  # edits are recorded by the edits themselves
        ("nudge_clicked", {}, "kind"),
        ("heartbeat", ["frame", 1], "payload"),
        ("heartbeat", {"frame": 1, "mood": "good"}, "payload.mood"),
        ("heartbeat", {"interval_s": 0}, "payload.interval_s"),
        ("heartbeat", {"interval_s": 301}, "payload.interval_s"),
        ("heartbeat", {"interval_s": math.nan}, "payload"),
        ("heartbeat", {"interval_s": "30"}, "payload.interval_s"),
        ("heartbeat", {"frame": True}, "payload.frame"),
        ("heartbeat", {"frame": [1]}, "payload.frame"),
        ("frame_viewed", {}, "payload.frame"),
        ("frame_viewed", {"frame": -1}, "payload.frame"),
        ("frame_viewed", {"frame": 10**6}, "payload.frame"),
        ("frame_viewed", {"frame": 1.5}, "payload.frame"),
        ("nudge_shown", {"track_id": "WORK"}, "payload.nudge_kind"),
        ("nudge_shown", {"nudge_kind": "make_stationary"}, "payload.track_id"),
        ("nudge_shown", {"nudge_kind": "go_faster", "track_id": "WORK"}, "payload.nudge_kind"),
        ("nudge_shown", {"nudge_kind": "make_stationary", "track_id": "CANDIDATE"}, "payload.track_id"),
        ("nudge_dismissed", {"nudge_kind": "make_stationary", "track_id": "OTHER_SCENE"}, "payload.track_id"),
        ("nudge_dismissed", {"nudge_kind": "make_stationary", "track_id": 2**31}, "payload.track_id"),
        ("guidance_item_opened", {"action_kind": "measure"}, "payload.frame"),
        (
            "guidance_item_opened",
            {"action_kind": "measure", "frame": 1, "track_id": "OTHER_SCENE"},
            "payload.track_id",
        ),
        ("guidance_item_opened", {"action_kind": "measure", "frame": 1, "index": -1}, "payload.index"),
        ("heartbeat", {"frame": 1, "interval_s": 30, "note": "x" * MAX_PAYLOAD_BYTES}, "payload"),
    ],
)
def test_payloads_are_checked_per_kind(
    db_factory: sessionmaker[Session], edit_scene: EditScene, kind: str, payload: Any, field: str
) -> None:
    work_track = confirmed_copy(db_factory, edit_scene)
    with db_factory.begin() as s:
        other_scene = insert_scene(s, edit_scene.team.project_id, layers=(GROUND_TRUTH,))
    names = {
        "WORK": work_track,
        "CANDIDATE": edit_scene.stored.track_ids[(TRACKER_LAYER, longest_candidate())],
        "OTHER_SCENE": next(iter(other_scene.track_ids.values())),
    }
    if isinstance(payload, dict):
        payload = {k: names.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    before = _event_count(db_factory)
    with db_factory.begin() as s, pytest.raises(InvalidError) as raised:
        record_task_event(s, edit_scene.team.ann, edit_scene.task_id, kind, payload)
    assert raised.value.field == field
    assert _event_count(db_factory) == before


def test_only_the_assignee_of_a_task_in_progress_records_events(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    team, scene_id = edit_scene.team, edit_scene.stored.scene_id
    with db_factory.begin() as s:
        queued = tasks.create_task(s, team.manager, team.project_id, scene_id, "annotate", assignee="ann").id
        submitted = tasks.create_task(
            s, team.manager, team.project_id, scene_id, "annotate", assignee="ann"
        ).id
        tasks.start_task(s, team.ann, submitted)
        tasks.submit_task(s, team.ann, submitted)
    before = _event_count(db_factory)
    refusals = [
        (ForbiddenError, team.abe, edit_scene.task_id),  # another annotator
        (ForbiddenError, team.manager, edit_scene.task_id),  # sees the task, is not its assignee
        (ForbiddenError, team.reviewer, edit_scene.task_id),
        (ForbiddenError, team.admin, edit_scene.task_id),
        (NotFoundError, team.outsider, edit_scene.task_id),
        (NotFoundError, team.ann, edit_scene.task_id + 1000),
        (ConflictError, team.ann, queued),  # not started
        (ConflictError, team.ann, submitted),  # handed in: no more activity in it
    ]
    for error, actor, task_id in refusals:
        with db_factory.begin() as s, pytest.raises(error):
            record_task_event(s, actor, task_id, "heartbeat", {"interval_s": 30})
    assert _event_count(db_factory) == before


def test_a_dismissed_nudge_is_not_given_again_in_the_task(
    db_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    world = make_world(db_factory, tmp_path / "blobs", "kitti")
    ann, task_id = world.team.ann, world.task_id
    keyed = parked_car_keyframes()
    with db_factory.begin() as s:
        created = track_edits.create_track(
            s, ann, world.scene_id, "work", "Car", list(parked_car().size),
            keyframes={str(keyed[0][0]): keyed[0][1]}, task_id=task_id,
        )  # fmt: skip
    track_id, version = int(created.track["id"]), 1

    def edit(name: str, *args: Any) -> None:
        nonlocal version
        with db_factory.begin() as s:
            version = getattr(track_edits, name)(s, ann, track_id, version, *args, task_id=task_id).track[
                "version"
            ]

    def key_frame_by_frame() -> list[tuple[str, str]]:
        for frame, pose in keyed[1:]:
            edit("set_keyframe", frame, pose)
        return nudges_now()

    def nudges_now() -> list[tuple[str, str]]:
        with db_factory.begin() as s:
            return [(n["kind"], n["track_id"]) for n in task_nudges(s, world.blobs, ann, task_id)]

    def record(kind: str) -> None:
        with db_factory.begin() as s:
            payload = {"nudge_kind": "make_stationary", "track_id": track_id}
            record_task_event(s, ann, task_id, kind, payload)

    def restart() -> None:
        """A situation change: the track made stationary and moving again, then keyed again."""
        edit("make_stationary", None)
        edit("make_moving", None)

    nudge = ("make_stationary", str(track_id))
    assert key_frame_by_frame() == [nudge]
    record("nudge_shown")
    assert nudges_now() == []  # shown once: silent until the situation changes
    restart()
    assert key_frame_by_frame() == [nudge]  # it changed, and the slow path came back
    record("nudge_dismissed")
    assert nudges_now() == []
    restart()
    assert key_frame_by_frame() == []  # dismissed: never again in this task
    with db_factory.begin() as s:
        dismissed = s.scalars(select(EventRow).where(EventRow.kind == "nudge_dismissed")).one()
        assert (dismissed.track_id, dismissed.task_id, dismissed.user_id) == (track_id, task_id, ann.user_id)
