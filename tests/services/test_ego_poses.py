"""The corrected ego poses in the product, on the stored KITTI tracking 0001 (SQLite and PostgreSQL).

``autolabel`` estimates the correction from its own stationary candidates and makes it the scene's
active poses; the reference is the same estimate on the files (``automation.pose_correction`` fed
with candidates built from the detections the format reader gives). Tracks follow: a stationary
track's shapes go through the active poses, a keyframed track's sensor-frame boxes stay where people
(or the importer) put them, and switching back to the imported poses restores everything.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.automation.candidates import build_candidates
from labelpilot.automation.pose_correction import PoseCorrection, correct_poses
from labelpilot.automation.pose_landmarks import landmarks_from_candidates
from labelpilot.services import ego_poses, scenes, track_edits
from labelpilot.services.automation_runs import autolabel
from labelpilot.services.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from labelpilot.store.tables import EventRow, FrameRow, TrackRow
from tests.services.automation_world import (
    DETECTIONS,
    World,
    kitti_file_scene,
    make_world,
    parked_car,
    parked_car_keyframes,
)

CANDIDATES = f"candidates:{DETECTIONS}"
Boxes = dict[tuple[int, int], np.ndarray]
"""(track id, frame) -> ego-frame centre and yaw, as the frame endpoint answers them."""


@functools.cache
def reference() -> PoseCorrection:
    scene = kitti_file_scene()
    candidates = build_candidates(scene, scene.layers[DETECTIONS])
    return correct_poses(scene, landmarks_from_candidates(scene, candidates))


@pytest.fixture
def kitti(db_factory: sessionmaker[Session], tmp_path: Path) -> World:
    return make_world(db_factory, tmp_path / "blobs", "kitti")


def _poses(s: Session, world: World) -> np.ndarray:
    loaded = scenes.load_scene(s, world.blobs, world.team.manager, world.scene_id, [])
    return np.stack([f.world_T_ego.matrix for f in loaded.frames])


def _listed_poses(s: Session, world: World) -> np.ndarray:
    return np.array([f.world_T_ego for f in scenes.list_frames(s, world.team.ann, world.scene_id)])


def _boxes(s: Session, world: World, layer: str, frames: list[int]) -> Boxes:
    out: Boxes = {}
    for frame in frames:
        for shape in scenes.frame_shapes(s, world.team.ann, world.scene_id, frame, layer):
            ego = shape["ego"]
            out[(shape["track_id"], frame)] = np.array([*ego["center"], ego["yaw"]])
    return out


def _assert_same_boxes(got: Boxes, expected: Boxes) -> None:
    assert got.keys() == expected.keys()
    for key, box in expected.items():
        np.testing.assert_allclose(got[key], box, atol=1e-6, err_msg=str(key))


def _events(s: Session, world: World, kind: str) -> list[EventRow]:
    query = select(EventRow).where(EventRow.scene_id == world.scene_id, EventRow.kind == kind)
    return list(s.scalars(query.order_by(EventRow.id)))


def test_autolabel_stores_and_activates_the_correction(
    db_factory: sessionmaker[Session], kitti: World
) -> None:
    expected = reference()
    assert expected.applied and expected.parameters is not None
    imported = np.stack([f.world_T_ego.matrix for f in kitti_file_scene().frames])
    with db_factory.begin() as s:
        np.testing.assert_allclose(_poses(s, kitti), imported, atol=1e-9)
        assert ego_poses.pose_status(s, kitti.team.ann, kitti.scene_id) == {
            "scene_id": kitti.scene_id, "active": "raw", "layers": [], "estimate": None, "notice": None,
        }  # fmt: skip
        summary = autolabel(s, kitti.blobs, kitti.team.manager, kitti.scene_id, from_layer=DETECTIONS)
    assert summary["ego_poses"]["applied"] is True and summary["ego_poses"]["active"] == "corrected"
    corrected = np.stack([p.matrix for p in expected.poses])
    with db_factory.begin() as s:
        np.testing.assert_allclose(_poses(s, kitti), corrected, atol=1e-6)
        np.testing.assert_allclose(_listed_poses(s, kitti), corrected[:, :3, :].reshape(-1, 12), atol=1e-6)
        # The imported poses are kept as they were.
        stored = s.scalars(select(FrameRow.world_T_ego).where(FrameRow.scene_id == kitti.scene_id)).all()
        np.testing.assert_allclose(np.array(stored), imported[:, :3, :].reshape(-1, 12), atol=1e-9)
        status = ego_poses.pose_status(s, kitti.team.ann, kitti.scene_id)
        assert status["active"] == "corrected" and [layer["name"] for layer in status["layers"]] == [
            "corrected"
        ]
        params = status["layers"][0]["params"]
        assert params["parameters"]["mean_scale"] == pytest.approx(expected.parameters.mean_scale, abs=1e-6)
        assert 0.95 < params["parameters"]["mean_scale"] < 0.99  # ORB-SLAM3 steps are ~3 % too long
        assert params["disagreement_before_m"] == pytest.approx(expected.disagreement_before_m, abs=1e-4)
        assert params["disagreement_after_m"] < params["disagreement_before_m"]
        assert params["from_layer"] == CANDIDATES and params["inliers"] == len(expected.landmarks)
        assert status["notice"] == expected.notice() and status["notice"] is not None
        assert f"{expected.disagreement_after_m:.2f} m" in status["notice"]
        (event,) = _events(s, kitti, ego_poses.CORRECTED_EVENT)
        assert event.user_id == kitti.team.manager.user_id and event.payload == status["estimate"]
        assert event.payload["reason"] == expected.reason


def test_tracks_follow_the_active_poses_and_switching_back_restores_raw(
    db_factory: sessionmaker[Session], kitti: World
) -> None:
    team, keyed = kitti.team, parked_car_keyframes()
    car = parked_car()
    with db_factory.begin() as s:
        moving = track_edits.create_track(
            s, team.ann, kitti.scene_id, "work", "Car", list(car.size),
            keyframes={str(f): pose for f, pose in keyed[::4]}, task_id=kitti.task_id,
        )  # fmt: skip
        first, last = car.first_frame, car.first_frame + 40
        still = track_edits.create_track(
            s, team.ann, kitti.scene_id, "work", "Car", list(car.size), stationary_pose=keyed[0][1],
            first_frame=first, last_frame=last, task_id=kitti.task_id,
        )  # fmt: skip
    moving_id, still_id = int(moving.track["id"]), int(still.track["id"])
    key_frames = [f for f, _ in keyed[::4]]
    middle = (first + last) // 2
    frames = sorted({*key_frames, first, middle, last})
    with db_factory.begin() as s:
        raw_work = _boxes(s, kitti, "work", frames)
        raw_truth = _boxes(s, kitti, "ground_truth", frames)
        raw_still = list(s.get_one(TrackRow, still_id).stationary_pose or [])
    with db_factory.begin() as s:
        autolabel(s, kitti.blobs, team.manager, kitti.scene_id, from_layer=DETECTIONS)
    corrected = [p.matrix for p in reference().poses]
    with db_factory.begin() as s:
        work = _boxes(s, kitti, "work", frames)
        # The keyframed track and the ground truth keep their sensor-frame boxes at their keyframes.
        at_keys = [(moving_id, f) for f in key_frames]
        _assert_same_boxes({k: work[k] for k in at_keys}, {k: raw_work[k] for k in at_keys})
        _assert_same_boxes(_boxes(s, kitti, "ground_truth", frames), raw_truth)
        # The stationary track is one world box seen through the corrected poses: its middle frame's
        # box stays, the others follow the correction.
        world_pose = np.eye(4)
        world_pose[:3, :] = np.reshape(s.get_one(TrackRow, still_id).stationary_pose or [], (3, 4))
        for frame in (first, middle, last):
            ego = np.linalg.inv(corrected[frame]) @ world_pose
            np.testing.assert_allclose(work[(still_id, frame)][:3], ego[:3, 3], atol=1e-6)
        np.testing.assert_allclose(work[(still_id, middle)], raw_work[(still_id, middle)], atol=1e-6)
        moved = np.linalg.norm(work[(still_id, first)][:2] - raw_work[(still_id, first)][:2])
        assert moved > 0.05  # 20 frames from the middle the scale correction shows

    with db_factory.begin() as s:
        version = s.get_one(TrackRow, moving_id).version
        switched = ego_poses.set_active(s, team.manager, kitti.scene_id, "raw")
        assert switched["active"] == "raw" and switched["switch"]["tracks_moved"] > 1000
    with db_factory.begin() as s:
        # Every moved track has a new version: an edit made against the old world is refused.
        assert s.get_one(TrackRow, moving_id).version == version + 1
        with pytest.raises(ConflictError):
            track_edits.set_life(s, team.ann, moving_id, version, first, last, task_id=kitti.task_id)
    imported = np.stack([f.world_T_ego.matrix for f in kitti_file_scene().frames])
    with db_factory.begin() as s:
        np.testing.assert_allclose(_poses(s, kitti), imported, atol=1e-9)
        _assert_same_boxes(_boxes(s, kitti, "work", frames), raw_work)
        _assert_same_boxes(_boxes(s, kitti, "ground_truth", frames), raw_truth)
        np.testing.assert_allclose(s.get_one(TrackRow, still_id).stationary_pose or [], raw_still, atol=1e-9)
        # The candidates' raw detections are back where the reader put them.
        loaded = scenes.load_scene(s, kitti.blobs, team.manager, kitti.scene_id, [CANDIDATES])
        expected = build_candidates(kitti_file_scene(), kitti_file_scene().layers[DETECTIONS])
        for got, want in zip(loaded.layers[CANDIDATES].tracks, expected.tracks, strict=True):
            for frame, attrs in want.frame_attributes.items():
                if "det_center" in attrs:
                    center = got.frame_attributes[frame]["det_center"]
                    np.testing.assert_allclose(center, attrs["det_center"], atol=1e-6)  # type: ignore[arg-type]
        assert ego_poses.pose_status(s, team.ann, kitti.scene_id)["layers"][0]["active"] is False

    with db_factory.begin() as s:
        ego_poses.set_active(s, team.manager, kitti.scene_id, "corrected")
    with db_factory.begin() as s:
        np.testing.assert_allclose(_poses(s, kitti), np.stack(corrected), atol=1e-6)
        _assert_same_boxes(_boxes(s, kitti, "work", frames), work)
        kinds = [e.payload["to"] for e in _events(s, kitti, ego_poses.SWITCHED_EVENT)]
        assert kinds == ["raw", "corrected"]


def test_only_managers_switch_or_reestimate_and_a_failed_estimate_keeps_the_active_poses(
    db_factory: sessionmaker[Session], kitti: World
) -> None:
    team = kitti.team
    with db_factory.begin() as s:
        with pytest.raises(InvalidError):  # no candidates yet
            ego_poses.reestimate(s, kitti.blobs, team.manager, kitti.scene_id)
        with pytest.raises(InvalidError):
            ego_poses.reestimate(s, kitti.blobs, team.manager, kitti.scene_id, "ground_truth")
        with pytest.raises(NotFoundError):
            ego_poses.set_active(s, team.manager, kitti.scene_id, "corrected")  # nothing estimated yet
        autolabel(s, kitti.blobs, team.manager, kitti.scene_id, from_layer=DETECTIONS)
    with db_factory.begin() as s:
        for person in (team.ann, team.reviewer, team.coach):
            with pytest.raises(ForbiddenError):
                ego_poses.set_active(s, person, kitti.scene_id, "raw")
            with pytest.raises(ForbiddenError):
                ego_poses.reestimate(s, kitti.blobs, person, kitti.scene_id)
        with pytest.raises(NotFoundError):
            ego_poses.set_active(s, team.abe, kitti.scene_id, "raw")  # abe cannot see the scene
        with pytest.raises(NotFoundError):
            ego_poses.reestimate(s, kitti.blobs, team.manager, kitti.scene_id, "auto:missing")
    with db_factory.begin() as s:
        before = _poses(s, kitti)
        # The work layer holds no tracks: no landmarks, no correction; the active poses stay.
        failed = ego_poses.reestimate(s, kitti.blobs, team.manager, kitti.scene_id, "work")
        assert failed["applied"] is False and "landmark" in failed["reason"]
        assert failed["active"] == "corrected"
    with db_factory.begin() as s:
        np.testing.assert_allclose(_poses(s, kitti), before, atol=1e-12)
        status = ego_poses.pose_status(s, team.ann, kitti.scene_id)
        assert status["active"] == "corrected" and status["estimate"]["applied"] is False
        assert len(_events(s, kitti, ego_poses.NOT_CORRECTED_EVENT)) == 1
        # Estimated again from the candidates (now in the corrected world): the same correction.
        again = ego_poses.reestimate(s, kitti.blobs, team.admin, kitti.scene_id)
        assert again["applied"] is True and again["from_layer"] == CANDIDATES
        expected = reference().parameters
        assert expected is not None
        assert again["parameters"]["mean_scale"] == pytest.approx(expected.mean_scale, abs=2e-3)
    with db_factory.begin() as s:
        np.testing.assert_allclose(
            _poses(s, kitti), np.stack([p.matrix for p in reference().poses]), atol=0.05
        )
