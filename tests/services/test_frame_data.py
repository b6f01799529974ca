"""Per-frame payloads and shapes of imported real scenes, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.formats import read_scene
from labelpilot.formats.sweeps import read_sweep
from labelpilot.scenes import Scene
from labelpilot.services import scenes
from labelpilot.services.actors import SYSTEM
from labelpilot.services.errors import NotFoundError
from labelpilot.store.blobs import BlobStore, etag_of
from labelpilot.store.tables import TrackRow
from labelpilot.tracks import Keyframed
from tests.services.scene_helpers import KITTI_SEQUENCE, assign_task, kitti_domain, make_team


def test_sweep_bytes_decode_to_the_points_of_the_source_file(
    db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path
) -> None:
    root = sample_dir / "kitti-odometry-00"
    blobs = BlobStore(str(tmp_path / "blobs"))
    with db_factory.begin() as s:
        team = make_team(s)
        scene_id = scenes.import_scene(s, blobs, SYSTEM, team.project_id, "kitti-odometry", root).id
    domain = read_scene("kitti-odometry", root)
    with db_factory.begin() as s:
        for frame in domain.frames[:: len(domain.frames) // 4]:
            assert frame.lidar is not None
            data, etag = scenes.sweep_bytes(s, blobs, team.reviewer, scene_id, frame.index)
            points = np.frombuffer(data, dtype="<f4").reshape(-1, 4)
            assert np.array_equal(points, read_sweep(frame.lidar))
            assert etag == etag_of(data)
        with pytest.raises(NotFoundError):
            scenes.sweep_bytes(s, blobs, team.reviewer, scene_id, len(domain.frames))
        with pytest.raises(NotFoundError):  # an annotator without a task on the scene does not see it
            scenes.sweep_bytes(s, blobs, team.annotator, scene_id, 0)
        assign_task(s, team.project_id, scene_id, team.annotator)
        assert scenes.sweep_bytes(s, blobs, team.annotator, scene_id, 0)[1] == etag_of(
            scenes.sweep_bytes(s, blobs, team.reviewer, scene_id, 0)[0]
        )


@pytest.fixture
def kitti_scene(
    db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path
) -> tuple[int, BlobStore, Scene]:
    """KITTI 0001 imported, its blob store, and the same scene read straight from the files."""
    root = sample_dir / "kitti-tracking"
    blobs = BlobStore(str(tmp_path / "blobs"))
    with db_factory.begin() as s:
        team = make_team(s)
        scene_id = scenes.import_scene(
            s, blobs, SYSTEM, team.project_id, "kitti-tracking", root, KITTI_SEQUENCE
        ).id
    return scene_id, blobs, kitti_domain(sample_dir)


def test_images_and_missing_payloads(
    db_factory: sessionmaker[Session], kitti_scene: tuple[int, BlobStore, Scene]
) -> None:
    scene_id, blobs, domain = kitti_scene
    with_image = [f for f in domain.frames if "image_02" in f.images]
    without = next(f for f in domain.frames if not f.images)
    with db_factory.begin() as s:
        for frame in with_image:
            data, media_type, etag = scenes.image_bytes(s, blobs, SYSTEM, scene_id, frame.index, "image_02")
            assert data == Path(frame.images["image_02"].url).read_bytes()
            assert media_type == "image/png" and etag == etag_of(data)
        with pytest.raises(NotFoundError):
            scenes.image_bytes(s, blobs, SYSTEM, scene_id, without.index, "image_02")
        with pytest.raises(NotFoundError):
            scenes.image_bytes(s, blobs, SYSTEM, scene_id, with_image[0].index, "image_03")
        with pytest.raises(NotFoundError):  # the tracking sample has no sweeps
            scenes.sweep_bytes(s, blobs, SYSTEM, scene_id, with_image[0].index)


def _check_shapes(shapes: list[dict[str, object]], domain: Scene, layer: str, frame: int) -> None:
    expected_ego = domain.shapes_in_frame(layer, frame, "ego")
    expected_world = {t.track_id: c for t, c in domain.shapes_in_frame(layer, frame, "world")}
    assert sorted(str(s["key"]) for s in shapes) == sorted(t.track_id for t, _ in expected_ego)
    by_key = {str(s["key"]): s for s in shapes}
    for track, ego in expected_ego:
        shape = by_key[track.track_id]
        for name, cuboid in (("ego", ego), ("world", expected_world[track.track_id])):
            got = shape[name]
            assert isinstance(got, dict)
            np.testing.assert_allclose(got["center"], cuboid.center, atol=1e-9)
            np.testing.assert_allclose(got["size"], cuboid.size, atol=1e-12)
            assert abs(abs(float(np.dot(got["quaternion"], cuboid.quat_xyzw))) - 1) < 1e-9
            assert got["yaw"] == pytest.approx(cuboid.yaw, abs=1e-9)
        assert shape["label"] == track.label and shape["status"] == track.status.value
        assert shape["stationary"] == track.is_stationary and shape["score"] == track.score
        motion = track.motion
        assert shape["keyframe"] == (isinstance(motion, Keyframed) and frame in motion.keyframes)
        assert shape["version"] == 1


def test_frame_shapes_equal_the_shapes_derived_from_the_files(
    db_factory: sessionmaker[Session], kitti_scene: tuple[int, BlobStore, Scene]
) -> None:
    scene_id, _, domain = kitti_scene
    last = len(domain.frames) - 1
    with db_factory.begin() as s:
        for layer in domain.layers:
            for frame in (0, 1, last // 3, last // 2, last):
                shapes = scenes.frame_shapes(s, SYSTEM, scene_id, frame, layer)
                _check_shapes(shapes, domain, layer, frame)
        busiest = max(range(last + 1), key=lambda f: len(domain.shapes_in_frame("ground_truth", f)))
        shapes = scenes.frame_shapes(s, SYSTEM, scene_id, busiest, "ground_truth")
        assert len(shapes) > 1  # the comparison above is not vacuous
        assert any(shape["keyframe"] for shape in shapes)
        assert scenes.frame_shapes(s, SYSTEM, scene_id, busiest, "work") == []
        with pytest.raises(NotFoundError):
            scenes.frame_shapes(s, SYSTEM, scene_id, busiest, "no-such-layer")


def test_deleted_tracks_have_no_shapes(
    db_factory: sessionmaker[Session], kitti_scene: tuple[int, BlobStore, Scene]
) -> None:
    scene_id, blobs, domain = kitti_scene
    frame = max(range(len(domain.frames)), key=lambda f: len(domain.shapes_in_frame("ground_truth", f)))
    with db_factory.begin() as s:
        shapes = scenes.frame_shapes(s, SYSTEM, scene_id, frame, "ground_truth")
        gone = shapes[0]["track_id"]
        s.execute(update(TrackRow).where(TrackRow.id == gone).values(deleted=True))
    with db_factory.begin() as s:
        after = scenes.frame_shapes(s, SYSTEM, scene_id, frame, "ground_truth")
        assert [x["track_id"] for x in after] == [x["track_id"] for x in shapes if x["track_id"] != gone]
        loaded = scenes.load_scene(s, blobs, SYSTEM, scene_id, ["ground_truth"])
        assert str(gone) not in {t.track_id for t in loaded.layers["ground_truth"]}
        assert len(loaded.layers["ground_truth"]) == len(domain.layers["ground_truth"]) - 1
