"""Track edits on a real KITTI scene: effects on the derived shapes, validation, versions, events."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.automation.size_priors import SizePriors
from labelpilot.geometry import Pose, normalize_yaw
from labelpilot.geometry.pose_json import pose_from_json, pose_to_json
from labelpilot.services import size_defaults, track_edits
from labelpilot.services.errors import ConflictError, InvalidError
from labelpilot.services.track_edit_store import EditResult
from labelpilot.store.tables import EventRow, LayerRow, TrackRow
from labelpilot.tracks import Keyframed, world_shapes
from tests.services.scene_rows import (
    GROUND_TRUTH,
    TRACKER_LAYER,
    EditScene,
    confirmed_copy,
    events_of,
    kitti_scene,
    longest_candidate,
    stored_json,
)


def test_confirm_copies_a_candidate_into_the_task_layer(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    key = longest_candidate()
    domain = kitti_scene().layers[TRACKER_LAYER].track(key)
    candidate_id = edit_scene.stored.track_ids[(TRACKER_LAYER, key)]
    with db_factory.begin() as s:
        result = track_edits.confirm_candidate(
            s, edit_scene.team.ann, candidate_id, 1, task_id=edit_scene.task_id
        )
        work = s.scalar(
            select(LayerRow).where(LayerRow.scene_id == edit_scene.stored.scene_id, LayerRow.name == "work")
        )
        assert work is not None
        copy = result.track
        assert copy["layer_id"] == work.id and copy["id"] != candidate_id
        assert copy["provenance"] == {"kind": "candidate", "source": TRACKER_LAYER}
        assert (copy["status"], copy["version"], copy["label"]) == ("confirmed", 1, domain.label)
        assert isinstance(domain.motion, Keyframed)
        assert copy["keyframes"] == {str(f): pose_to_json(p) for f, p in domain.motion.keyframes.items()}
        expected = world_shapes(domain)
        assert result.shapes.frames.tolist() == expected.frames.tolist() == domain.frames()
        np.testing.assert_allclose(result.shapes.cuboids.centers, expected.cuboids.centers, atol=1e-9)
        np.testing.assert_allclose(result.shapes.cuboids.sizes, expected.cuboids.sizes)
        assert result.candidate is not None and result.candidate["status"] == "confirmed"
        assert stored_json(s, candidate_id)["version"] == 2
        assert stored_json(s, copy["id"]) == copy
        (event,) = events_of(s, copy["id"])
        assert (event.kind, event.task_id, event.user_id) == (
            "candidate_confirmed",
            edit_scene.task_id,
            edit_scene.team.ann.user_id,
        )
        assert event.payload["before"]["status"] == "candidate" and event.payload["after"] == copy
        assert event.payload["candidate_id"] == candidate_id
        json.dumps(result.to_json())  # what the API sends must be plain JSON
    with db_factory.begin() as s:
        with pytest.raises(ConflictError) as stale:
            track_edits.confirm_candidate(s, edit_scene.team.ann, candidate_id, 1, task_id=edit_scene.task_id)
        assert stale.value.current["version"] == 2
        with pytest.raises(ConflictError) as done:
            track_edits.confirm_candidate(s, edit_scene.team.ann, candidate_id, 2, task_id=edit_scene.task_id)
        assert "not a candidate" in done.value.message
        work_tracks = s.scalars(select(TrackRow.id).where(TrackRow.layer_id == copy["layer_id"])).all()
        assert list(work_tracks) == [copy["id"]]


def test_set_and_delete_keyframes_reshape_the_interpolation(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    scene_poses = [f.world_T_ego for f in kitti_scene().frames]
    a, b = 20, 40  # two keyframes where the ego car really was, 20 frames apart
    with db_factory.begin() as s:
        created = track_edits.create_track(
            s,
            edit_scene.team.ann,
            edit_scene.stored.scene_id,
            "work",
            "Car",
            [4.2, 1.8, 1.5],
            keyframes={
                str(a): pose_to_json(scene_poses[a]),
                str(b): {"center": scene_poses[b].translation.tolist(), "yaw": scene_poses[b].yaw},
            },
            task_id=edit_scene.task_id,
        )
    track_id, version = int(created.track["id"]), int(created.track["version"])
    assert created.shapes.frames.tolist() == list(range(a, b + 1))
    middle = 30
    moved = Pose.from_yaw(
        scene_poses[middle].yaw + 0.3, scene_poses[middle].translation + np.array([0.5, -0.25, 0.1])
    )
    with db_factory.begin() as s:
        result = track_edits.set_keyframe(
            s, edit_scene.team.ann, track_id, version, middle, pose_to_json(moved), task_id=edit_scene.task_id
        )
    assert result.track["version"] == version + 1
    shapes = result.shapes
    at = {int(f): i for i, f in enumerate(shapes.frames)}
    np.testing.assert_allclose(shapes.cuboids.centers[at[middle]], moved.translation, atol=1e-9)
    assert shapes.cuboids.yaws[at[middle]] == pytest.approx(float(normalize_yaw(moved.yaw)), abs=1e-9)
    np.testing.assert_allclose(shapes.cuboids.centers[at[a]], scene_poses[a].translation, atol=1e-9)
    # Between keyframes the centre is linear in the frame index, computed here independently.
    start, end = scene_poses[a].translation, moved.translation
    for f in range(a, middle + 1):
        np.testing.assert_allclose(
            shapes.cuboids.centers[at[f]], start + (end - start) * (f - a) / (middle - a), atol=1e-9
        )
    # A keyframe beyond the life extends it.
    with db_factory.begin() as s:
        longer = track_edits.set_keyframe(
            s,
            edit_scene.team.ann,
            track_id,
            version + 1,
            b + 5,
            {"center": [1.0, 2.0, 0.5], "yaw": 3.0},
            task_id=edit_scene.task_id,
        )
    assert (longer.track["first_frame"], longer.track["last_frame"]) == (a, b + 5)
    assert longer.shapes.frames.tolist() == list(range(a, b + 6))
    with db_factory.begin() as s:
        fewer = track_edits.delete_keyframe(
            s, edit_scene.team.ann, track_id, version + 2, middle, task_id=edit_scene.task_id
        )
        assert sorted(fewer.track["keyframes"]) == sorted([str(a), str(b), str(b + 5)])
        at = {int(f): i for i, f in enumerate(fewer.shapes.frames)}
        halfway = (scene_poses[a].translation + scene_poses[b].translation) / 2
        np.testing.assert_allclose(fewer.shapes.cuboids.centers[at[middle]], halfway, atol=1e-9)
        kinds = [(e.kind, e.payload.get("frame")) for e in events_of(s, track_id)]
        assert kinds == [
            ("track_created", None),
            ("keyframe_set", middle),
            ("keyframe_set", b + 5),
            ("keyframe_deleted", middle),
        ]


def test_stationary_and_moving(db_factory: sessionmaker[Session], edit_scene: EditScene) -> None:
    """A real parked car (KITTI ground truth): one world box for its whole life, then moving again."""
    gt = kitti_scene().layers[GROUND_TRUTH]

    def spread(track_key: str) -> float:
        centres = np.stack([p.translation for p in gt.track(track_key).motion.keyframes.values()])  # type: ignore[union-attr]
        return float(np.ptp(centres[:, :2], axis=0).max())

    parked = min((t.track_id for t in gt.tracks if len(t.frames()) > 20), key=spread)
    track_id = edit_scene.stored.track_ids[(GROUND_TRUTH, parked)]
    with db_factory.begin() as s:
        before = stored_json(s, track_id)
        result = track_edits.make_stationary(s, edit_scene.team.admin, track_id, before["version"])
    centres = np.stack([np.asarray(p)[[3, 7, 11]] for p in before["keyframes"].values()])
    yaws = np.array([pose_from_json(p).yaw for p in before["keyframes"].values()])
    shapes = result.shapes
    assert result.track["stationary"] and result.track["keyframes"] == {}
    assert shapes.frames.tolist() == list(range(before["first_frame"], before["last_frame"] + 1))
    np.testing.assert_allclose(
        shapes.cuboids.centers, np.repeat(shapes.cuboids.centers[:1], len(shapes), axis=0)
    )
    np.testing.assert_allclose(
        shapes.cuboids.quats_xyzw, np.repeat(shapes.cuboids.quats_xyzw[:1], len(shapes), axis=0)
    )
    np.testing.assert_allclose(shapes.cuboids.centers[0], np.median(centres, axis=0), atol=1e-9)
    mean_yaw = np.angle(np.exp(1j * yaws).mean())
    assert float(shapes.cuboids.yaws[0]) == pytest.approx(mean_yaw, abs=1e-9)
    # The estimated ego poses keep a parked car within about a metre (SOURCE.txt): so does its box.
    assert np.linalg.norm(centres[:, :2] - shapes.cuboids.centers[0, :2], axis=1).max() < 1.5
    with db_factory.begin() as s:
        nudged = track_edits.make_stationary(
            s,
            edit_scene.team.admin,
            track_id,
            before["version"] + 1,
            {"center": [5.0, 1.0, 0.8], "yaw": 0.25},
        )
        np.testing.assert_allclose(nudged.shapes.cuboids.centers, [[5.0, 1.0, 0.8]] * len(shapes))
        moving = track_edits.make_moving(s, edit_scene.team.admin, track_id, before["version"] + 2)
        assert not moving.track["stationary"]
        assert moving.track["keyframes"] == {
            str(before["first_frame"]): nudged.track["stationary_pose"],
            str(before["last_frame"]): nudged.track["stationary_pose"],
        }
        np.testing.assert_allclose(moving.shapes.cuboids.centers, nudged.shapes.cuboids.centers, atol=1e-12)
        kinds = [e.kind for e in events_of(s, track_id)]
        assert kinds == ["track_made_stationary", "stationary_pose_set", "track_made_moving"]
        with pytest.raises(InvalidError):
            track_edits.make_moving(s, edit_scene.team.admin, track_id, before["version"] + 3)


def test_update_reject_and_delete(db_factory: sessionmaker[Session], edit_scene: EditScene) -> None:
    copy = confirmed_copy(db_factory, edit_scene)
    with db_factory.begin() as s:
        updated = track_edits.update_track(
            s,
            edit_scene.team.ann,
            copy,
            1,
            label="Van",
            size=[5.1, 2.0, 2.2],
            attributes={"parked": False, "lane": 2},
            task_id=edit_scene.task_id,
        )
        assert (updated.track["label"], updated.track["size"], updated.track["attributes"]) == (
            "Van",
            [5.1, 2.0, 2.2],
            {"parked": False, "lane": 2},
        )
        np.testing.assert_allclose(updated.shapes.cuboids.sizes, [[5.1, 2.0, 2.2]] * len(updated.shapes))
        other = edit_scene.stored.track_ids[(TRACKER_LAYER, "1")]
        rejected = track_edits.reject_candidate(s, edit_scene.team.ann, other, 1, task_id=edit_scene.task_id)
        assert (rejected.track["status"], rejected.track["version"]) == ("rejected", 2)
        gone = track_edits.delete_track(s, edit_scene.team.ann, copy, 2, task_id=edit_scene.task_id)
        assert gone.track["deleted"] and len(gone.shapes) == 0 and gone.track["version"] == 3
        with pytest.raises(ConflictError) as after_delete:
            track_edits.set_keyframe(
                s,
                edit_scene.team.ann,
                copy,
                3,
                100,
                {"center": [0, 0, 0], "yaw": 0},
                task_id=edit_scene.task_id,
            )
        assert after_delete.value.current["deleted"] is True
        assert s.get(TrackRow, copy) is not None  # soft delete: events still point at the row


def test_stale_versions_are_refused_with_the_current_state(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    copy = confirmed_copy(db_factory, edit_scene)
    with db_factory.begin() as s:
        track_edits.update_track(s, edit_scene.team.ann, copy, 1, label="Van", task_id=edit_scene.task_id)
    with db_factory.begin() as s:
        current = stored_json(s, copy)
        event_count = len(events_of(s, copy))
        attempts: list[Callable[[], Any]] = [
            lambda: track_edits.update_track(
                s, edit_scene.team.ann, copy, 1, label="Truck", task_id=edit_scene.task_id
            ),
            lambda: track_edits.make_stationary(s, edit_scene.team.ann, copy, 1, task_id=edit_scene.task_id),
            lambda: track_edits.delete_track(s, edit_scene.team.ann, copy, 3, task_id=edit_scene.task_id),
        ]
        for attempt in attempts:
            with pytest.raises(ConflictError) as stale:
                attempt()
            assert stale.value.current == current
    with db_factory.begin() as s:
        assert stored_json(s, copy) == current and current["label"] == "Van" and current["version"] == 2
        assert len(events_of(s, copy)) == event_count


def test_events_record_before_and_after_of_every_edit(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    copy = confirmed_copy(db_factory, edit_scene)
    ann, task = edit_scene.team.ann, edit_scene.task_id
    with db_factory.begin() as s:
        first = stored_json(s, copy)["first_frame"]
        edits: list[Callable[[int], EditResult]] = [
            lambda v: track_edits.update_track(s, ann, copy, v, attributes={"occluded": True}, task_id=task),
            lambda v: track_edits.set_keyframe(
                s, ann, copy, v, first, {"center": [3, 4, 1], "yaw": 1.0}, task_id=task
            ),
            lambda v: track_edits.delete_keyframe(s, ann, copy, v, first, task_id=task),
            lambda v: track_edits.make_stationary(s, ann, copy, v, task_id=task),
            lambda v: track_edits.make_moving(s, ann, copy, v, task_id=task),
            lambda v: track_edits.delete_track(s, ann, copy, v, task_id=task),
        ]
        for version, edit in enumerate(edits, start=1):
            before = stored_json(s, copy)
            after = edit(version).track
            assert after == stored_json(s, copy)
            event = events_of(s, copy)[-1]
            assert event.payload["before"] == before and event.payload["after"] == after
            assert after["version"] == before["version"] + 1 == version + 1
            assert (event.task_id, event.scene_id, event.project_id) == (
                task,
                edit_scene.stored.scene_id,
                edit_scene.team.project_id,
            )
        kinds = [e.kind for e in events_of(s, copy)]
    assert kinds == [
        "candidate_confirmed",
        "track_updated",
        "keyframe_set",
        "keyframe_deleted",
        "track_made_stationary",
        "track_made_moving",
        "track_deleted",
    ]


BAD_INPUT: list[tuple[str, dict[str, Any], str]] = [
    ("set_keyframe", {"frame": -1, "pose": {"center": [0, 0, 0], "yaw": 0}}, "frame"),
    ("set_keyframe", {"frame": "frame_count", "pose": {"center": [0, 0, 0], "yaw": 0}}, "frame"),
    ("set_keyframe", {"frame": 7, "pose": {"center": [float("nan"), 0, 0], "yaw": 0}}, "pose.center[0]"),
    ("set_keyframe", {"frame": 7, "pose": {"center": [0, 0, 0], "yaw": float("inf")}}, "pose.yaw"),
    ("set_keyframe", {"frame": 7, "pose": {"center": [0, 0, 0]}}, "pose"),
    ("set_keyframe", {"frame": 7, "pose": [2, 0, 0, 1, 0, 2, 0, 1, 0, 0, 2, 1]}, "pose"),
    ("set_keyframe", {"frame": 7, "pose": [1, 0, 0, 1]}, "pose"),
    ("delete_keyframe", {"frame": 0}, "frame"),
    ("update_track", {"size": [4.0, -1.0, 1.5]}, "size[1]"),
    ("update_track", {"size": [float("inf"), 1.0, 1.5]}, "size[0]"),
    ("update_track", {"size": [4.0, 1.0]}, "size"),
    ("update_track", {"label": "  "}, "label"),
    ("update_track", {"label": "x" * 81}, "label"),
    ("update_track", {"attributes": {"colour": {"r": 1}}}, "attributes.colour"),
    ("update_track", {"attributes": {"colour": None}}, "attributes.colour"),
    ("update_track", {"attributes": ["parked"]}, "attributes"),
    ("update_track", {}, "label"),
    ("update_track", {"expected_version": "1", "label": "Van"}, "expected_version"),
]


@pytest.mark.parametrize(("operation", "arguments", "field"), BAD_INPUT)
def test_bad_input_is_refused_naming_the_field(
    db_factory: sessionmaker[Session],
    edit_scene: EditScene,
    operation: str,
    arguments: dict[str, Any],
    field: str,
) -> None:
    copy = confirmed_copy(db_factory, edit_scene, key="15")  # keyframes 47..86: frame 0 is none of them
    if arguments.get("frame") == "frame_count":
        arguments = {**arguments, "frame": edit_scene.stored.frame_count}
    call = {"expected_version": 1, **arguments, "task_id": edit_scene.task_id}
    with db_factory.begin() as s:
        before, event_count = stored_json(s, copy), len(events_of(s, copy))
        with pytest.raises(InvalidError) as bad:
            getattr(track_edits, operation)(s, edit_scene.team.ann, copy, **call)
        assert bad.value.field == field
        assert stored_json(s, copy) == before and len(events_of(s, copy)) == event_count


def test_bad_new_tracks_are_refused(db_factory: sessionmaker[Session], edit_scene: EditScene) -> None:
    pose = {"center": [10.0, 2.0, 0.8], "yaw": 0.5}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"keyframes": {"999": pose}}, "keyframes.999"),
        ({"keyframes": {}}, "keyframes"),
        ({}, "keyframes"),
        ({"keyframes": {"3": pose}, "stationary_pose": pose}, "keyframes"),
        ({"stationary_pose": pose, "first_frame": 9, "last_frame": 4}, "first_frame"),
        ({"keyframes": {"3": pose, "9": pose}, "last_frame": 5}, "keyframes"),
        ({"stationary_pose": pose, "layer": "auto:pointrcnn"}, "layer"),
        ({"stationary_pose": pose, "size": [0, 1, 1]}, "size[0]"),
    ]
    with db_factory.begin() as s:
        for change, field in cases:
            arguments: dict[str, Any] = {"layer": "work", "label": "Car", "size": [4, 2, 1.5], **change}
            with pytest.raises(InvalidError) as bad:
                track_edits.create_track(s, edit_scene.team.reviewer, edit_scene.stored.scene_id, **arguments)
            assert bad.value.field == field, change
        assert s.scalar(select(EventRow.id).where(EventRow.kind == "track_created")) is None
        made = track_edits.create_track(
            s,
            edit_scene.team.reviewer,
            edit_scene.stored.scene_id,
            "work",
            "Car",
            [4, 2, 1.5],
            stationary_pose=pose,
        )
    assert made.shapes.frames.tolist() == list(range(edit_scene.stored.frame_count))


def test_a_new_box_without_a_size_starts_from_the_project_priors(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    """Built-in class sizes first; confirmed boxes of the project pull the default toward their sizes."""
    builtin_car = SizePriors.builtin().default_size("Car")
    manager, scene_id = edit_scene.team.manager, edit_scene.stored.scene_id

    def create(size: list[float] | None, x: float) -> EditResult:
        return track_edits.create_track(
            s, manager, scene_id, "work", "Car", size, keyframes={0: {"center": [x, 40.0, 0.0], "yaw": 0.0}}
        )

    with db_factory.begin() as s:
        first = create(None, 0.0)
    np.testing.assert_allclose(first.track["size"], builtin_car)
    with db_factory.begin() as s:
        for i in range(12):
            create([5.5, 2.2, 1.9], 10.0 + 6 * i)
    with db_factory.begin() as s:
        learned = size_defaults.default_size(s, edit_scene.team.project_id, "Car")
        later = create(None, -10.0)
    assert learned[0] > float(builtin_car[0]) + 0.2
    np.testing.assert_allclose(later.track["size"], learned)
