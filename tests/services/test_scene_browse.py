"""Browsing scenes, and who sees which scene, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import scenes
from labelpilot.services.actors import SYSTEM
from labelpilot.services.errors import NotFoundError
from labelpilot.store.blobs import BlobStore
from tests.services.scene_helpers import KITTI_SEQUENCE, assign_task, kitti_domain, make_team


def test_annotators_see_only_the_scenes_of_their_tasks(
    db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path
) -> None:
    blobs = BlobStore(str(tmp_path / "blobs"))
    with db_factory.begin() as s:
        team = make_team(s)
        first = scenes.import_scene(
            s, blobs, team.manager, team.project_id, "sustechpoints", sample_dir / "sustechpoints"
        )
        second = scenes.import_scene(
            s, blobs, team.manager, team.project_id, "mot", sample_dir / "mot" / "TUD-Campus", name="campus"
        )
    both = [first.id, second.id]
    with db_factory.begin() as s:
        for staff in (team.manager, team.reviewer, SYSTEM):
            assert [v.id for v in scenes.list_scenes(s, staff, team.project_id)] == both
            assert scenes.get_scene(s, staff, second.id).summary.name == "campus"
        assert scenes.list_scenes(s, team.annotator, team.project_id) == []
        for call in (scenes.get_scene, scenes.list_frames, scenes.list_layers):
            with pytest.raises(NotFoundError):
                call(s, team.annotator, first.id)
        with pytest.raises(NotFoundError):
            scenes.load_scene(s, blobs, team.annotator, first.id)
        with pytest.raises(NotFoundError):
            scenes.list_scenes(s, team.outsider, team.project_id)
        with pytest.raises(NotFoundError):
            scenes.get_scene(s, team.outsider, first.id)
        with pytest.raises(NotFoundError):
            scenes.get_scene(s, team.manager, max(both) + 1)
        assign_task(s, team.project_id, second.id, team.annotator)
    with db_factory.begin() as s:
        assert [v.id for v in scenes.list_scenes(s, team.annotator, team.project_id)] == [second.id]
        assert scenes.get_scene(s, team.annotator, second.id).summary.id == second.id
        assert len(scenes.list_frames(s, team.annotator, second.id)) == second.frame_count
        with pytest.raises(NotFoundError):
            scenes.get_scene(s, team.annotator, first.id)
        assert scenes.list_scenes(s, team.other_annotator, team.project_id) == []


def test_scene_overview_frames_and_layers(
    db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path
) -> None:
    domain = kitti_domain(sample_dir)
    with db_factory.begin() as s:
        team = make_team(s)
        row = scenes.import_scene(
            s, BlobStore(str(tmp_path / "blobs")), team.manager, team.project_id,
            "kitti-tracking", sample_dir / "kitti-tracking", KITTI_SEQUENCE,
        )  # fmt: skip
    with db_factory.begin() as s:
        detail = scenes.get_scene(s, team.reviewer, row.id)
        frames = scenes.list_frames(s, team.reviewer, row.id)
    summary = detail.summary
    assert (summary.name, summary.source_format, summary.frame_count) == (
        KITTI_SEQUENCE,
        "kitti-tracking",
        len(domain.frames),
    )
    assert summary.duration_s == pytest.approx(domain.duration_s)
    assert detail.notes == domain.notes
    assert {v.name: v.kind for v in detail.sensors} == {"velodyne": "lidar"} | dict.fromkeys(
        domain.cameras, "camera"
    )
    camera = next(v for v in detail.sensors if v.name == "image_02")
    assert camera.intrinsics is not None
    np.testing.assert_array_equal(camera.intrinsics["matrix"], domain.cameras["image_02"].intrinsics.matrix)
    assert (camera.intrinsics["width"], camera.intrinsics["height"]) == (
        domain.cameras["image_02"].intrinsics.width,
        domain.cameras["image_02"].intrinsics.height,
    )
    counts = {v.name: (v.track_count, v.track_2d_count) for v in detail.layers}
    expected = {name: (len(layer.tracks), len(layer.tracks_2d)) for name, layer in domain.layers.items()}
    assert counts == expected | {"work": (0, 0)}
    image_frames = sorted(
        int(p.stem)
        for p in (sample_dir / "kitti-tracking" / "training" / "image_02" / KITTI_SEQUENCE).glob("*.png")
    )
    assert [f.index for f in frames if f.cameras] == image_frames
    assert all(f.cameras == ["image_02"] for f in frames if f.cameras)
    assert not any(f.has_lidar for f in frames) and all(f.lidar_points is None for f in frames)
    for view, frame in zip(frames, domain.frames, strict=True):
        assert view.timestamp_us == frame.timestamp_us
        np.testing.assert_array_equal(np.reshape(view.world_T_ego, (3, 4)), frame.world_T_ego.matrix[:3])


def test_frames_of_a_lidar_scene(db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path) -> None:
    root = sample_dir / "sustechpoints"
    with db_factory.begin() as s:
        team = make_team(s)
        row = scenes.import_scene(
            s, BlobStore(str(tmp_path / "blobs")), team.manager, team.project_id, "sustechpoints", root
        )
        frames = scenes.list_frames(s, team.manager, row.id)
    cameras = sorted(p.name for p in (root / "camera").iterdir())
    assert len(frames) == len(list((root / "lidar").glob("*.pcd")))
    assert all(f.has_lidar and f.lidar_points and f.cameras == cameras for f in frames)
