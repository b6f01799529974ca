"""Life, absent frames and batched keyframes of a track, on real KITTI scenes: shapes, checks, versions, events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.geometry import Pose
from labelpilot.geometry.pose_json import pose_to_json
from labelpilot.services import tasks, track_edits
from labelpilot.services.errors import ConflictError, ForbiddenError, InvalidError
from labelpilot.services.track_edit_store import EditResult
from tests.conftest import SAMPLE
from tests.services.scene_helpers import kitti_domain
from tests.services.scene_rows import (
    EditScene,
    confirmed_copy,
    events_of,
    insert_scene,
    kitti_scene,
    make_team,
    stored_json,
)


def ego_pose(frame: int) -> Pose:
    """Where the KITTI car really was at ``frame``: a real moving trajectory to key a track on."""
    return kitti_scene().frames[frame].world_T_ego


def create_track(db_factory: sessionmaker[Session], scene: EditScene, keyframes: list[int]) -> EditResult:
    """ann draws a track in her task, keyed on the ego trajectory at ``keyframes``."""
    with db_factory.begin() as s:
        return track_edits.create_track(
            s,
            scene.team.ann,
            scene.stored.scene_id,
            "work",
            "Car",
            [4.2, 1.8, 1.5],
            keyframes={f: pose_to_json(ego_pose(f)) for f in keyframes},
            task_id=scene.task_id,
        )


def centres_by_frame(result: EditResult) -> dict[int, np.ndarray]:
    return {int(f): result.shapes.cuboids.centers[i] for i, f in enumerate(result.shapes.frames)}


def test_trimming_drops_keyframes_and_absent_frames_outside_the_life(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    ann, task = edit_scene.team.ann, edit_scene.task_id
    track = create_track(db_factory, edit_scene, [20, 30, 40])
    track_id = int(track.track["id"])
    with db_factory.begin() as s:
        marked = track_edits.set_absent(s, ann, track_id, 1, [22, 25, 35], True, task_id=task)
        trimmed = track_edits.set_life(s, ann, track_id, 2, 24, 36, task_id=task)
        assert stored_json(s, track_id) == trimmed.track
        event = events_of(s, track_id)[-1]
        assert event.kind == "track_life_set"
        assert event.payload["before"] == marked.track and event.payload["after"] == trimmed.track
    assert marked.track["absent_frames"] == [22, 25, 35]
    assert (trimmed.track["first_frame"], trimmed.track["last_frame"]) == (24, 36)
    # The dropped keyframes at 20 and 40 leave keyframes at the new ends holding the shapes there.
    assert list(trimmed.track["keyframes"]) == ["24", "30", "36"]
    assert trimmed.track["absent_frames"] == [25, 35]
    assert trimmed.track["version"] == 3
    assert trimmed.shapes.frames.tolist() == [f for f in range(24, 37) if f not in (25, 35)]
    before, after = centres_by_frame(marked), centres_by_frame(trimmed)
    for frame in trimmed.shapes.frames.tolist():  # no box inside the life moves
        np.testing.assert_allclose(after[frame], before[frame], atol=1e-9)
    assert not np.allclose(after[24], ego_pose(30).translation)


def test_extending_holds_the_end_keyframes_pose(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    track = create_track(db_factory, edit_scene, [20, 40])
    track_id = int(track.track["id"])
    with db_factory.begin() as s:
        longer = track_edits.set_life(s, edit_scene.team.ann, track_id, 1, 10, 50, task_id=edit_scene.task_id)
    assert longer.track["keyframes"] == track.track["keyframes"]
    assert longer.shapes.frames.tolist() == list(range(10, 51))
    before, after = centres_by_frame(track), centres_by_frame(longer)
    for frame in range(10, 20):
        np.testing.assert_allclose(after[frame], ego_pose(20).translation, atol=1e-9)
    for frame in range(41, 51):
        np.testing.assert_allclose(after[frame], ego_pose(40).translation, atol=1e-9)
    for frame in range(20, 41):  # the keyed part does not move
        np.testing.assert_allclose(after[frame], before[frame], atol=1e-12)
    head = longer.shapes.cuboids.quats_xyzw[:10]
    np.testing.assert_allclose(np.abs(head @ ego_pose(20).quat_xyzw), np.ones(10), atol=1e-9)


def test_a_life_keeps_a_keyframe_and_visible_ends(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    ann, task = edit_scene.team.ann, edit_scene.task_id
    track_id = int(create_track(db_factory, edit_scene, [20, 40]).track["id"])
    with db_factory.begin() as s:
        track_edits.set_absent(s, ann, track_id, 1, [30], True, task_id=task)
    cases: list[tuple[int, int, str, str]] = [
        (41, 50, "first_frame", "at least one keyframe"),
        (5, 19, "first_frame", "at least one keyframe"),
        (35, 25, "first_frame", "after last_frame"),
        (30, 40, "first_frame", "marked absent"),
        (20, 30, "last_frame", "marked absent"),
        (-1, 40, "first_frame", "outside the scene"),
        (20, edit_scene.stored.frame_count, "last_frame", "outside the scene"),
    ]
    with db_factory.begin() as s:
        before, event_count = stored_json(s, track_id), len(events_of(s, track_id))
        for first, last, field, message in cases:
            with pytest.raises(InvalidError) as bad:
                track_edits.set_life(s, ann, track_id, 2, first, last, task_id=task)
            assert (bad.value.field, message in bad.value.message) == (field, True), (first, last)
        assert stored_json(s, track_id) == before and len(events_of(s, track_id)) == event_count


def test_a_stationary_track_changes_only_its_life(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    manager = edit_scene.team.manager
    pose = ego_pose(60)
    with db_factory.begin() as s:
        made = track_edits.create_track(
            s,
            manager,
            edit_scene.stored.scene_id,
            "work",
            "Car",
            [4.2, 1.8, 1.5],
            stationary_pose=pose_to_json(pose),
        )
        track_id = int(made.track["id"])
        track_edits.set_absent(s, manager, track_id, 1, [3, 70, 140], True)
        result = track_edits.set_life(s, manager, track_id, 2, 50, 100)
    assert result.track["stationary"] and result.track["stationary_pose"] == made.track["stationary_pose"]
    assert result.track["absent_frames"] == [70]
    assert result.shapes.frames.tolist() == [f for f in range(50, 101) if f != 70]
    np.testing.assert_allclose(
        result.shapes.cuboids.centers,
        np.repeat(pose.translation[None], len(result.shapes), axis=0),
        atol=1e-9,
    )


def test_absent_frames_lose_their_shape_until_marked_visible(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    ann, task = edit_scene.team.ann, edit_scene.task_id
    track = create_track(db_factory, edit_scene, [20, 40])
    track_id = int(track.track["id"])
    with db_factory.begin() as s:
        hidden = track_edits.set_absent(s, ann, track_id, 1, [26, 25, 26], True, task_id=task)
        shown = track_edits.set_absent(s, ann, track_id, 2, [25], False, task_id=task)
        events = events_of(s, track_id)
    assert hidden.track["absent_frames"] == [25, 26]
    assert hidden.shapes.frames.tolist() == [f for f in range(20, 41) if f not in (25, 26)]
    assert shown.track["absent_frames"] == [26]
    assert shown.shapes.frames.tolist() == [f for f in range(20, 41) if f != 26]
    # Visible again, frame 25 gets back the very shape it had before.
    np.testing.assert_allclose(centres_by_frame(shown)[25], centres_by_frame(track)[25], atol=1e-12)
    assert [(e.kind, e.payload["frames"], e.payload["absent"]) for e in events[1:]] == [
        ("frames_absent_set", [25, 26], True),
        ("frames_absent_set", [25], False),
    ]
    assert events[-1].payload["before"] == hidden.track and events[-1].payload["after"] == shown.track


def test_absent_is_refused_at_keyframes_the_life_ends_and_for_bad_frames(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    ann, task = edit_scene.team.ann, edit_scene.task_id
    track_id = int(create_track(db_factory, edit_scene, [20, 30, 40]).track["id"])
    frame_count = edit_scene.stored.frame_count
    cases: list[tuple[Any, Any, str, str]] = [
        ([24, 30], True, "frames", "frame 30 has a keyframe; delete it first"),
        ([20], True, "frames", "trim the life instead"),
        ([40], True, "frames", "trim the life instead"),
        ([45], True, "frames", "outside the track's life"),
        ([45], False, "frames", "outside the track's life"),
        ([], True, "frames", "non-empty"),
        ("25", True, "frames", "non-empty list"),
        (["25"], True, "frames", "integer"),
        ([True], True, "frames", "integer"),
        ([frame_count], False, "frames", "outside the scene"),
        ([25] * (frame_count + 1), True, "frames", f"at most the scene's {frame_count}"),
        ([25], "yes", "absent", "true or false"),
    ]
    with db_factory.begin() as s:
        before, event_count = stored_json(s, track_id), len(events_of(s, track_id))
        for frames, absent, field, message in cases:
            with pytest.raises(InvalidError) as bad:
                track_edits.set_absent(s, ann, track_id, 1, frames, absent, task_id=task)
            assert (bad.value.field, message in bad.value.message) == (field, True), (frames, absent)
        assert stored_json(s, track_id) == before and len(events_of(s, track_id)) == event_count


@contextmanager
def statements_run(session: Session) -> Iterator[list[str]]:
    """The SQL statements the session's connection sends while inside (an executemany counts once)."""
    seen: list[str] = []
    connection = session.connection()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


def test_set_keyframes_adds_hundreds_in_one_edit(db_factory: sessionmaker[Session]) -> None:
    """200 keyframes along the ego path of KITTI 0001 (447 frames): one version, one event, few statements."""
    domain = kitti_domain(SAMPLE)
    with db_factory.begin() as s:
        team = make_team(s)
        stored = insert_scene(s, team.project_id, layers=(), scene=domain)
        task = tasks.create_task(
            s, team.manager, team.project_id, stored.scene_id, "annotate", assignee="ann"
        )
        tasks.start_task(s, team.ann, task.id)
        created = track_edits.create_track(
            s,
            team.ann,
            stored.scene_id,
            "work",
            "Car",
            [4.2, 1.8, 1.5],
            keyframes={f: pose_to_json(domain.frames[f].world_T_ego) for f in (100, 161)},
            task_id=task.id,
        )
    track_id = int(created.track["id"])
    with db_factory.begin() as s:
        track_edits.set_absent(s, team.ann, track_id, 1, [120, 130, 151], True, task_id=task.id)
    frames = list(range(0, 400, 2))  # 200 frames, beyond both ends of the life and over the absent 120, 130
    poses = {f: domain.frames[f].world_T_ego for f in frames}
    with db_factory.begin() as s:
        with statements_run(s) as statements:
            result = track_edits.set_keyframes(
                s, team.ann, track_id, 2, {str(f): pose_to_json(p) for f, p in poses.items()}, task_id=task.id
            )
        assert stored_json(s, track_id) == result.track
        events = events_of(s, track_id)
    assert len(frames) == 200
    # A handful of statements whatever the count: not one round trip per keyframe.
    assert len(statements) < 20, statements
    assert result.track["version"] == 3
    assert [e.kind for e in events] == ["track_created", "frames_absent_set", "keyframes_set"]
    assert events[-1].payload["frames"] == frames
    assert sorted(int(f) for f in result.track["keyframes"]) == sorted({*frames, 100, 161})
    assert (result.track["first_frame"], result.track["last_frame"]) == (0, 398)
    assert result.track["absent_frames"] == [151]  # 151 is odd: not keyed, still absent
    at = centres_by_frame(result)
    for frame, pose in poses.items():
        np.testing.assert_allclose(at[frame], pose.translation, atol=1e-9)
    assert 151 not in at and 120 in at and 130 in at


def test_set_keyframes_replaces_and_refuses_stationary_tracks(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    ann, task = edit_scene.team.ann, edit_scene.task_id
    track_id = int(create_track(db_factory, edit_scene, [20, 40]).track["id"])
    moved = Pose.from_yaw(ego_pose(40).yaw + 0.2, ego_pose(40).translation + np.array([1.0, 0.5, 0.0]))
    with db_factory.begin() as s:
        result = track_edits.set_keyframes(
            s, ann, track_id, 1, {40: pose_to_json(moved), 30: pose_to_json(ego_pose(30))}, task_id=task
        )
        np.testing.assert_allclose(result.track["keyframes"]["40"], pose_to_json(moved), atol=1e-12)
        assert sorted(result.track["keyframes"]) == ["20", "30", "40"]
        np.testing.assert_allclose(centres_by_frame(result)[40], moved.translation, atol=1e-9)
        bad_keyframes: list[tuple[Any, str]] = [
            ({}, "keyframes"),
            ([pose_to_json(moved)], "keyframes"),
            (
                {edit_scene.stored.frame_count: pose_to_json(moved)},
                f"keyframes.{edit_scene.stored.frame_count}",
            ),
            ({25: {"center": [0.0, 0.0, 0.0]}}, "keyframes.25"),
        ]
        for bad, field in bad_keyframes:
            with pytest.raises(InvalidError) as invalid:
                track_edits.set_keyframes(s, ann, track_id, 2, bad, task_id=task)
            assert invalid.value.field == field
        track_edits.make_stationary(s, ann, track_id, 2, task_id=task)
        with pytest.raises(InvalidError) as stationary:
            track_edits.set_keyframes(s, ann, track_id, 3, {25: pose_to_json(moved)}, task_id=task)
        assert stationary.value.field == "motion"
        assert [e.kind for e in events_of(s, track_id)] == [
            "track_created",
            "keyframes_set",
            "track_made_stationary",
        ]


def _edits(track_id: int, scene: EditScene) -> dict[str, Callable[[Session, int, int | None], EditResult]]:
    """Each new edit as (session, version, task_id) -> result, all valid on a track keyed at 47..86."""
    ann = scene.team.ann
    pose = pose_to_json(ego_pose(90))
    return {
        "set_life": lambda s, v, t: track_edits.set_life(s, ann, track_id, v, 50, 80, task_id=t),
        "set_absent": lambda s, v, t: track_edits.set_absent(s, ann, track_id, v, [60], False, task_id=t),
        "set_keyframes": lambda s, v, t: track_edits.set_keyframes(
            s, ann, track_id, v, {90: pose}, task_id=t
        ),
    }


def test_stale_versions_and_annotators_without_a_task_are_refused(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    copy = confirmed_copy(db_factory, edit_scene, key="15")  # real tracker keyframes at 47..86
    with db_factory.begin() as s:
        track_edits.update_track(s, edit_scene.team.ann, copy, 1, label="Van", task_id=edit_scene.task_id)
    with db_factory.begin() as s:
        current, event_count = stored_json(s, copy), len(events_of(s, copy))
        for name, edit in _edits(copy, edit_scene).items():
            with pytest.raises(ConflictError) as stale:
                edit(s, 1, edit_scene.task_id)
            assert stale.value.current == current, name
            with pytest.raises(ForbiddenError):
                edit(s, 2, None)
        assert stored_json(s, copy) == current and len(events_of(s, copy)) == event_count
    # The same edits at the current version go through, each one version further.
    with db_factory.begin() as s:
        for version, edit in enumerate(_edits(copy, edit_scene).values(), start=2):
            assert edit(s, version, edit_scene.task_id).track["version"] == version + 1
