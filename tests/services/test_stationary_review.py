"""The stationary-objects review on stored real scenes, SQLite and PostgreSQL.

KITTI tracking 0001 after autolabel (no lidar): the items are the guidance queue's confirm_stationary
items, with the box that confirming and marking stationary gives. An Argoverse 2 fragment (two real
sweeps, exact city-frame poses) with its ground-truth tracks copied as candidates: the points come back
in the world frame, so a parked vehicle's box holds its accumulated returns.
"""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.formats import read_scene
from labelpilot.formats.sweeps import read_sweep
from labelpilot.geometry import Cuboid
from labelpilot.geometry.points_in_cuboids import points_in_cuboid
from labelpilot.geometry.pose_json import pose_from_json
from labelpilot.services import scenes, tasks, track_edits
from labelpilot.services.errors import NotFoundError
from labelpilot.services.guidance_queue import guidance
from labelpilot.services.stationary_review import VOXEL_SIZE, stationary_review
from labelpilot.services.track_edit_store import ensure_layer, insert_track
from labelpilot.store.blobs import BlobStore
from labelpilot.store.tables import KeyframeRow
from labelpilot.tracks import Provenance, TrackStatus
from tests.conftest import SAMPLE
from tests.services.automation_world import World, make_autolabelled_world
from tests.services.scene_rows import make_team

AV2_ROOT = SAMPLE / "argoverse2" / "logs"
AV2_LOG = "7fab2350-7eaf-3b7e-a39d-6937a4c1bede"
"""The AV2 fragment with lidar: ~150 annotated frames, real sweeps at two of them."""
AV2_CANDIDATES = "auto:av2_ground_truth_copy"


@pytest.fixture
def world(db_factory: sessionmaker[Session], tmp_path: Path) -> World:
    return make_autolabelled_world(db_factory, tmp_path / "blobs")


def _robust_box(s: Session, track_id: int) -> tuple[list[float], float]:
    """robust_world_pose of the stored keyframes of a track: its centre and yaw."""
    rows = s.scalars(select(KeyframeRow.world_pose).where(KeyframeRow.track_id == track_id)).all()
    pose = track_edits.robust_world_pose([pose_from_json(p) for p in rows])
    return [float(v) for v in pose.translation], float(pose.yaw)


def test_items_are_the_queues_stationary_candidates_with_the_box_confirming_gives(
    db_factory: sessionmaker[Session], world: World
) -> None:
    team = world.team
    with db_factory.begin() as s:
        queue = guidance(s, world.blobs, team.ann, world.scene_id, task_id=world.task_id)
        review = stationary_review(s, world.blobs, team.ann, world.scene_id, world.task_id)
        stationary = [a for a in queue if a["kind"] == "confirm_stationary"]
        assert len(stationary) > 5
        items = review["items"]
        assert [(i["track_id"], i["frame"], i["view"], i["reason"]) for i in items] == [
            (a["track_id"], a["frame"], a["view"], a["reason"]) for a in stationary
        ]
        assert review["points"] is None  # KITTI tracking here has no lidar
        for item in items:
            center, yaw = _robust_box(s, int(item["track_id"]))
            np.testing.assert_allclose(item["box"]["center"], center, atol=1e-9)
            assert item["box"]["yaw"] == pytest.approx(yaw, abs=1e-12)

    # ann confirms the first one and marks it stationary, as the editor's s does: the box is the one shown.
    first = items[0]
    with db_factory.begin() as s:
        copy = track_edits.confirm_candidate(
            s, team.ann, int(first["track_id"]), first["version"], task_id=world.task_id
        ).track
        done = track_edits.make_stationary(
            s, team.ann, int(copy["id"]), copy["version"], task_id=world.task_id
        )
    pose = pose_from_json(done.track["stationary_pose"])
    np.testing.assert_allclose(pose.translation, first["box"]["center"], atol=1e-9)
    assert pose.yaw == pytest.approx(first["box"]["yaw"], abs=1e-9)
    assert done.track["size"] == pytest.approx(first["box"]["size"])
    with db_factory.begin() as s:
        after = stationary_review(s, world.blobs, team.ann, world.scene_id, world.task_id)["items"]
    assert first["track_id"] not in {i["track_id"] for i in after}
    assert [i["track_id"] for i in after] == [i["track_id"] for i in items[1:]]

    with db_factory.begin() as s:
        for hidden_from in (team.abe, team.outsider):
            with pytest.raises(NotFoundError):
                stationary_review(s, world.blobs, hidden_from, world.scene_id, world.task_id)
        with pytest.raises(NotFoundError):
            stationary_review(s, world.blobs, team.manager, world.scene_id, world.task_id + 1000)


def _decode(points: dict[str, object]) -> NDArray[np.float32]:
    raw = base64.b64decode(str(points["data"]))
    return np.frombuffer(raw, dtype="<f4").reshape(-1, 4)


def test_av2_points_are_the_sweeps_in_the_world_frame(
    db_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    domain = read_scene("av2", AV2_ROOT, AV2_LOG)
    blobs = BlobStore(str(tmp_path / "blobs"))
    with db_factory.begin() as s:
        team = make_team(s)
        scene_id = scenes.import_scene(s, blobs, team.admin, team.project_id, "av2", AV2_ROOT, AV2_LOG).id
        task = tasks.create_task(s, team.manager, team.project_id, scene_id, "annotate", assignee="ann")
        tasks.start_task(s, team.ann, task.id)
        layer_id = ensure_layer(s, scene_id, AV2_CANDIDATES).id
        for track in domain.layer("ground_truth"):
            candidate = dataclasses.replace(
                track, provenance=Provenance("candidate", AV2_CANDIDATES), status=TrackStatus.CANDIDATE
            )
            insert_track(s, candidate, layer_id)
    with db_factory.begin() as s:
        review = stationary_review(s, blobs, team.ann, scene_id, task.id)
    items, points = review["items"], review["points"]
    assert items and points is not None

    # Independently: each sweep of the file, through the lidar's extrinsic and the frame's pose.
    swept = [f for f in domain.frames if f.lidar is not None]
    assert domain.lidar is not None and swept
    lives = [(i["first_frame"], i["last_frame"]) for i in items]
    used = [f for f in swept if any(a <= f.index <= b for a, b in lives)]
    assert points["frames"] == [f.index for f in used]
    world = np.concatenate(
        [
            (f.world_T_ego @ domain.lidar.ego_T_sensor).apply(read_sweep(f.lidar)[:, :3].astype(np.float64))
            for f in used
            if f.lidar is not None
        ]
    )
    got = _decode(points)
    assert len(got) == points["count"] and 0 < len(got) < len(world)
    # Every point sent is a real return (the first of its voxel), in the world frame.
    distance, _ = cKDTree(world).query(got[:, :3].astype(np.float64))
    assert float(distance.max()) < 0.01
    # One point per voxel: no two share a cube.
    cells = np.floor(got[:, :3].astype(np.float64) / VOXEL_SIZE).astype(np.int64)
    assert len(np.unique(cells, axis=0)) == len(got)

    # A parked vehicle's proposed box holds its accumulated returns: as many as the cubes its points fill.
    best = None
    for item in items:
        box = Cuboid.from_yaw(item["box"]["center"], item["box"]["size"], item["box"]["yaw"])
        inside_world = world[points_in_cuboid(world, box)]
        if best is None or len(inside_world) > best[1]:
            best = (box, len(inside_world), inside_world)
    assert best is not None
    box, raw_inside, inside_world = best
    assert raw_inside >= 50
    filled = len(np.unique(np.floor(inside_world / VOXEL_SIZE).astype(np.int64), axis=0))
    sent_inside = int(points_in_cuboid(got[:, :3].astype(np.float64), box).sum())
    assert sent_inside >= 0.5 * filled
    # In the ego frame (the mistake this guards against) the box would be empty.
    ego_points = read_sweep(used[0].lidar)[:, :3] if used[0].lidar is not None else np.zeros((0, 3))
    assert int(points_in_cuboid(ego_points.astype(np.float64), box).sum()) == 0
