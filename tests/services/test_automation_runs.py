"""autolabel on stored real scenes (KITTI tracking 0001, the KITTI odometry demo drive), SQLite and PostgreSQL."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.automation.candidates import build_candidates
from labelpilot.automation.detector import detector_layer
from labelpilot.automation.pose_correction import correct_poses
from labelpilot.automation.pose_landmarks import landmarks_from_candidates
from labelpilot.automation.pose_rebase import corrected_scene
from labelpilot.automation.sweep_access import SceneSweeps
from labelpilot.services import ego_poses, scenes, track_edits
from labelpilot.services.automation_runs import CLASSIC_LAYER, CLASSIC_PARAMS, autolabel
from labelpilot.services.blob_sweeps import BlobSweeps
from labelpilot.services.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from labelpilot.store.tables import EventRow, KeyframeRow, LayerRow, TrackRow
from labelpilot.tracks import AnnotationLayer, Keyframed
from tests.services.automation_world import (
    DETECTIONS,
    World,
    drive_file_scene,
    kitti_file_scene,
    make_world,
)

CANDIDATES = f"candidates:{DETECTIONS}"
CLASSIC_CANDIDATES = f"candidates:{CLASSIC_LAYER}"


@functools.cache
def kitti_candidates() -> AnnotationLayer:
    """The reference: candidates built from the detections as the file reader gives them."""
    scene = kitti_file_scene()
    return build_candidates(scene, scene.layers[DETECTIONS])


@functools.cache
def kitti_candidates_corrected() -> AnnotationLayer:
    """The reference of a rerun: the first run made its pose correction the scene's poses, so the
    detections are associated again in the corrected world (services.ego_poses)."""
    scene = kitti_file_scene()
    correction = correct_poses(scene, landmarks_from_candidates(scene, kitti_candidates()))
    moved = corrected_scene(scene, correction)
    return build_candidates(moved, moved.layers[DETECTIONS])


REFERENCE_FRAMES = (0, 14, 29)
"""Frames of the drive where the detector's output is checked against a run on the files."""


@functools.cache
def drive_detections() -> AnnotationLayer:
    """The reference: the detector on a few of the drive's sweeps as the files hold them."""
    scene = drive_file_scene()
    return detector_layer(scene, SceneSweeps(scene), frames=REFERENCE_FRAMES)


def _layer_tracks(s: Session, scene_id: int, name: str) -> list[TrackRow]:
    layer = s.scalar(select(LayerRow).where(LayerRow.scene_id == scene_id, LayerRow.name == name))
    assert layer is not None, name
    return list(s.scalars(select(TrackRow).where(TrackRow.layer_id == layer.id).order_by(TrackRow.id)))


def _runs(s: Session, scene_id: int) -> list[EventRow]:
    query = select(EventRow).where(EventRow.scene_id == scene_id, EventRow.kind == "autolabel_run")
    return list(s.scalars(query.order_by(EventRow.id)))


@pytest.fixture
def kitti(db_factory: sessionmaker[Session], tmp_path: Path) -> World:
    return make_world(db_factory, tmp_path / "blobs", "kitti")


def test_candidates_from_a_stored_layer_then_a_rerun_replaces_them(
    db_factory: sessionmaker[Session], kitti: World
) -> None:
    reference = kitti_candidates()
    assert len(reference.tracks) > 50
    with db_factory.begin() as s:
        summary = autolabel(s, kitti.blobs, kitti.team.manager, kitti.scene_id, from_layer=DETECTIONS)
        json.dumps(summary)  # what the API sends must be plain JSON
        assert summary["layers"] == [{"name": CANDIDATES, "tracks": len(reference.tracks), "replaced": False}]
        assert summary["candidates"] == len(reference.tracks)
        assert summary["source_tracks"] == len(kitti_file_scene().layers[DETECTIONS].tracks)
        assert summary["seconds"]["total"] >= summary["seconds"]["candidates"] > 0
        rows = _layer_tracks(s, kitti.scene_id, CANDIDATES)
        assert [r.key for r in rows] == [t.track_id for t in reference.tracks]
        assert [r.label for r in rows] == [t.label for t in reference.tracks]
        assert {(r.status, r.provenance_kind, r.provenance_source) for r in rows} == {
            ("candidate", "candidate", DETECTIONS)
        }
        loaded = scenes.load_scene(s, kitti.blobs, kitti.team.manager, kitti.scene_id, [CANDIDATES])
        for stored, expected in zip(loaded.layers[CANDIDATES].tracks, reference.tracks, strict=True):
            assert stored.frames() == expected.frames()
            np.testing.assert_allclose(stored.size, expected.size)
        (event,) = _runs(s, kitti.scene_id)
        assert event.user_id == kitti.team.manager.user_id and event.payload["layers"] == summary["layers"]
        # A mark no person leaves (no event, same version), to tell the rerun's rows from these.
        s.execute(update(TrackRow).where(TrackRow.id == rows[0].id).values(label="marked"))
        keyframes = s.scalar(select(func.count()).select_from(KeyframeRow))

    rerun = kitti_candidates_corrected()
    with db_factory.begin() as s:
        again = autolabel(s, kitti.blobs, kitti.team.admin, kitti.scene_id, from_layer=DETECTIONS)
        assert again["layers"] == [{"name": CANDIDATES, "tracks": len(rerun.tracks), "replaced": True}]
        rows = _layer_tracks(s, kitti.scene_id, CANDIDATES)
        assert [(r.key, r.label) for r in rows] == [(t.track_id, t.label) for t in rerun.tracks]
        keyed = sum(len(t.motion.keyframes) for t in rerun.tracks if isinstance(t.motion, Keyframed))
        first_keyed = sum(
            len(t.motion.keyframes) for t in reference.tracks if isinstance(t.motion, Keyframed)
        )
        assert s.scalar(select(func.count()).select_from(KeyframeRow)) == keyframes - first_keyed + keyed
        assert len(_runs(s, kitti.scene_id)) == 2

    # ann confirms one candidate in her task: the layer now holds her work and is not replaced.
    with db_factory.begin() as s:
        # (autolabel moved the candidates onto its corrected ego poses: a new version, no one's work)
        version = s.get_one(TrackRow, rows[0].id).version
        confirmed = track_edits.confirm_candidate(
            s, kitti.team.ann, rows[0].id, version, task_id=kitti.task_id
        )
        assert confirmed.track["provenance"] == {"kind": "candidate", "source": CANDIDATES}
    with db_factory.begin() as s, pytest.raises(ConflictError) as refused:
        autolabel(s, kitti.blobs, kitti.team.manager, kitti.scene_id, from_layer=DETECTIONS)
    assert refused.value.current == {"layer": CANDIDATES, "edited_tracks": 1}
    with db_factory.begin() as s:
        assert [r.id for r in _layer_tracks(s, kitti.scene_id, CANDIDATES)] == [r.id for r in rows]
        assert len(_runs(s, kitti.scene_id)) == 2
        # KITTI tracking has no lidar: the detector has nothing to run on.
        with pytest.raises(InvalidError) as no_lidar:
            autolabel(s, kitti.blobs, kitti.team.manager, kitti.scene_id, detector="classic")
        assert no_lidar.value.field == "detector"


def test_only_managers_and_admins_run_automation_and_never_on_ground_truth(
    db_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    world = make_world(db_factory, tmp_path / "blobs", "drive")
    team = world.team
    with db_factory.begin() as s:
        with pytest.raises(ForbiddenError):  # ann sees the scene through her task, but may not run automation
            autolabel(s, world.blobs, team.ann, world.scene_id, detector="classic")
        with pytest.raises(ForbiddenError):
            autolabel(s, world.blobs, team.reviewer, world.scene_id, detector="classic")
        with pytest.raises(ForbiddenError):
            autolabel(s, world.blobs, team.coach, world.scene_id, detector="classic")
        for hidden_from in (team.abe, team.outsider):  # no task on the scene; not a member
            with pytest.raises(NotFoundError):
                autolabel(s, world.blobs, hidden_from, world.scene_id, detector="classic")
        with pytest.raises(InvalidError):
            autolabel(s, world.blobs, team.manager, world.scene_id)
        with pytest.raises(InvalidError):
            autolabel(s, world.blobs, team.manager, world.scene_id, from_layer="work", detector="classic")
        with pytest.raises(InvalidError) as ground_truth:
            autolabel(s, world.blobs, team.admin, world.scene_id, from_layer="ground_truth")
        assert "ground_truth" in ground_truth.value.message
        with pytest.raises(InvalidError) as unknown:
            autolabel(s, world.blobs, team.manager, world.scene_id, detector="pointpillars")
        assert unknown.value.field == "detector"
        with pytest.raises(NotFoundError):
            autolabel(s, world.blobs, team.manager, world.scene_id, from_layer="auto:missing")
        with pytest.raises(InvalidError) as too_long:
            autolabel(s, world.blobs, team.manager, world.scene_id, from_layer="auto:" + "x" * 110)
        assert too_long.value.field == "from_layer"
    with db_factory.begin() as s:
        assert _runs(s, world.scene_id) == []
        names = s.scalars(select(LayerRow.name).where(LayerRow.scene_id == world.scene_id)).all()
        assert names == ["work"]


def test_the_classic_detector_on_the_stored_sweeps_of_the_demo_drive(
    db_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    world = make_world(db_factory, tmp_path / "blobs", "drive")
    reference = drive_detections()
    assert {int(t.track_id.split("-")[1]) for t in reference.tracks} == set(REFERENCE_FRAMES)
    frames = len(drive_file_scene().frames)
    progress: list[tuple[int, int]] = []
    with db_factory.begin() as s:
        summary = autolabel(
            s,
            world.blobs,
            world.team.manager,
            world.scene_id,
            detector="classic",
            progress=lambda done, total: progress.append((done, total)),
        )
        assert progress == [(i, frames) for i in range(1, frames + 1)]
        stored = _layer_tracks(s, world.scene_id, CLASSIC_LAYER)
        stored_candidates = _layer_tracks(s, world.scene_id, CLASSIC_CANDIDATES)
        assert summary["layers"] == [
            {"name": CLASSIC_LAYER, "tracks": len(stored), "replaced": False},
            {"name": CLASSIC_CANDIDATES, "tracks": len(stored_candidates), "replaced": False},
        ]
        assert summary["source_tracks"] == len(stored) > 10 * len(REFERENCE_FRAMES)
        assert summary["candidates"] == len(stored_candidates) > 5 and summary["frames"] == frames
        # The stored sweeps give exactly what the detector finds in the files' sweeps.
        checked = [r for r in stored if r.first_frame in REFERENCE_FRAMES]
        assert [(r.key, r.label, r.first_frame) for r in checked] == [
            (t.track_id, t.label, t.first_frame) for t in reference.tracks
        ]
        assert [r.score for r in checked] == pytest.approx([t.score for t in reference.tracks])
        # The candidates are the detections' association, stored as they were built (on the imported
        # poses: the run then made its pose correction active, so it is switched off to compare).
        ego_poses.set_active(s, world.team.manager, world.scene_id, "raw")
        loaded = scenes.load_scene(s, world.blobs, world.team.manager, world.scene_id, [CLASSIC_LAYER])
        expected = build_candidates(
            loaded,
            loaded.layers[CLASSIC_LAYER],
            sweeps=BlobSweeps.of_scene(world.blobs, loaded),
            params=CLASSIC_PARAMS,
        )
        assert [(r.key, r.label, r.first_frame, r.last_frame) for r in stored_candidates] == [
            (t.track_id, t.label, t.first_frame, t.last_frame) for t in expected.tracks
        ]
        assert [r.score for r in stored_candidates] == pytest.approx([t.score for t in expected.tracks])
        assert {(r.status, r.provenance_source) for r in stored_candidates} == {("candidate", CLASSIC_LAYER)}


def test_blob_sweeps_give_the_points_the_files_hold(
    db_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    world = make_world(db_factory, tmp_path / "blobs", "drive")
    reference = SceneSweeps(drive_file_scene())
    with db_factory.begin() as s:
        scene = scenes.load_scene(s, world.blobs, world.team.manager, world.scene_id)
        from_scene = BlobSweeps.of_scene(world.blobs, scene, capacity=2)
        from_rows = BlobSweeps.of_rows(s, world.blobs, world.scene_id)
    assert from_scene.frames_with_sweeps == from_rows.frames_with_sweeps == len(scene.frames)
    for frame in (0, 13, len(scene.frames) - 1, 0):
        expected = reference.points_ego(frame)
        assert expected is not None and len(expected) > 10_000
        for sweeps in (from_scene, from_rows):
            points = sweeps.points_ego(frame)
            assert points is not None and points.dtype == np.float32
            np.testing.assert_array_equal(points, expected)
    with pytest.raises(IndexError):
        from_scene.points_ego(len(scene.frames))
    # A damaged blob is reported with its key, not read as shifted points.
    key = scene.frames[5].lidar.url if scene.frames[5].lidar else ""
    world.blobs.put(key, world.blobs.get(key)[:-3])
    with pytest.raises(InvalidError) as damaged:
        BlobSweeps.of_scene(world.blobs, scene).points_ego(5)
    assert key in damaged.value.message
