"""Importing real scenes (KITTI tracking, KITTI odometry, SUSTechPOINTS, AV2, MOT) on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.formats import read_scene
from labelpilot.formats.sweeps import read_sweep
from labelpilot.scenes import Scene
from labelpilot.services import scenes
from labelpilot.services.actors import SYSTEM
from labelpilot.services.errors import ForbiddenError, InvalidError, NotFoundError
from labelpilot.store.blobs import BlobStore
from labelpilot.store.tables import EventRow, FrameRow, KeyframeRow, LayerRow, SensorRow, Track2DRow, TrackRow
from labelpilot.tracks import Keyframed
from tests.services.scene_helpers import (
    KITTI_SEQUENCE,
    blob_files,
    kitti_label_lines,
    make_team,
    table_counts,
)


def _keyframe_count(scene: Scene) -> int:
    return sum(
        len(t.motion.keyframes)
        for layer in scene.layers.values()
        for t in layer
        if isinstance(t.motion, Keyframed)
    )


def _assert_rows_match(session: Session, scene_id: int, scene: Scene) -> None:
    """Every count of the stored scene equals the domain scene's."""
    frames = list(
        session.scalars(select(FrameRow).where(FrameRow.scene_id == scene_id).order_by(FrameRow.index))
    )
    assert [f.index for f in frames] == list(range(len(scene.frames)))
    assert [f.timestamp_us for f in frames] == [f.timestamp_us for f in scene.frames]
    for row, frame in zip(frames, scene.frames, strict=True):
        assert np.array_equal(np.asarray(row.world_T_ego).reshape(3, 4), frame.world_T_ego.matrix[:3])
        assert (row.lidar_blob is not None) == (frame.lidar is not None)
        assert sorted(row.images) == sorted(frame.images)
    sensors = {
        s.name: s.kind for s in session.scalars(select(SensorRow).where(SensorRow.scene_id == scene_id))
    }
    expected_sensors = dict.fromkeys(scene.cameras, "camera")
    if scene.lidar is not None:
        expected_sensors[scene.lidar.name] = "lidar"
    assert sensors == expected_sensors
    layers = {
        layer.name: layer for layer in session.scalars(select(LayerRow).where(LayerRow.scene_id == scene_id))
    }
    assert set(layers) == set(scene.layers) | {"work"}
    for name, layer in scene.layers.items():
        tracks = list(session.scalars(select(TrackRow).where(TrackRow.layer_id == layers[name].id)))
        assert sorted(t.key for t in tracks) == sorted(t.track_id for t in layer.tracks)
        tracks_2d = session.scalars(select(Track2DRow).where(Track2DRow.layer_id == layers[name].id)).all()
        assert len(tracks_2d) == len(layer.tracks_2d)
    keyframes = session.scalars(
        select(KeyframeRow).join(TrackRow).join(LayerRow).where(LayerRow.scene_id == scene_id)
    ).all()
    assert len(keyframes) == _keyframe_count(scene)


def test_kitti_tracking_import_stores_every_frame_track_and_image(
    db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path
) -> None:
    root = sample_dir / "kitti-tracking"
    blobs = BlobStore(str(tmp_path / "blobs"))
    progress: list[tuple[int, int]] = []
    with db_factory.begin() as s:
        team = make_team(s)
        row = scenes.import_scene(
            s, blobs, team.manager, team.project_id, "kitti-tracking", root, KITTI_SEQUENCE,
            progress=lambda done, total: progress.append((done, total)),
        )  # fmt: skip
    domain = read_scene("kitti-tracking", root, KITTI_SEQUENCE)
    with db_factory.begin() as s:
        _assert_rows_match(s, row.id, domain)
        # Independently of the reader: one ground-truth track per track id of the label file.
        label_ids = {fields[1] for fields in kitti_label_lines(sample_dir) if fields[2] != "DontCare"}
        gt = s.scalar(select(LayerRow).where(LayerRow.scene_id == row.id, LayerRow.name == "ground_truth"))
        assert gt is not None
        keys = s.scalars(select(TrackRow.key).where(TrackRow.layer_id == gt.id)).all()
        assert set(keys) == label_ids
        event = s.scalar(select(EventRow).where(EventRow.kind == "scene_imported"))
        assert event is not None and event.scene_id == row.id and event.user_id == team.manager.user_id
    assert progress[-1] == (len(domain.frames), len(domain.frames)) and len(progress) == len(domain.frames)
    # The sample's camera images, stored byte for byte with their media type.
    image_dir = root / "training" / "image_02" / KITTI_SEQUENCE
    pngs = sorted(image_dir.glob("*.png"))
    assert len(blob_files(tmp_path / "blobs")) == len(pngs)
    with db_factory.begin() as s:
        for png in pngs:
            data, media_type, _ = scenes.image_bytes(s, blobs, SYSTEM, row.id, int(png.stem), "image_02")
            assert data == png.read_bytes() and media_type == "image/png"


def test_kitti_odometry_sweeps_are_stored_as_float32_rows(
    db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path
) -> None:
    root = sample_dir / "kitti-odometry-00"
    blobs = BlobStore(str(tmp_path / "blobs"))
    with db_factory.begin() as s:
        team = make_team(s)
        row = scenes.import_scene(s, blobs, SYSTEM, team.project_id, "kitti-odometry", root, name="seq 00")
    domain = read_scene("kitti-odometry", root)
    clouds = sorted((root / "clouds").glob("*.pcd"))
    assert row.frame_count == len(clouds) == len(domain.frames)
    with db_factory.begin() as s:
        _assert_rows_match(s, row.id, domain)
        assert [layer.name for layer in scenes.list_layers(s, SYSTEM, row.id)] == ["work"]
        frames = s.scalars(select(FrameRow).where(FrameRow.scene_id == row.id).order_by(FrameRow.index)).all()
        for frame_row, frame in zip(frames, domain.frames, strict=True):
            assert frame.lidar is not None and frame_row.lidar_blob is not None
            points = read_sweep(frame.lidar)
            assert frame_row.lidar_points == len(points)
            assert frame_row.lidar_blob == f"scenes/{row.id}/lidar/{frame.index:06d}.f32"
            assert (tmp_path / "blobs" / frame_row.lidar_blob).stat().st_size == 16 * len(points)
    assert len(blob_files(tmp_path / "blobs")) == len(clouds)


@pytest.mark.parametrize(
    ("format_name", "folder", "sequence"),
    [
        ("sustechpoints", "sustechpoints", None),
        ("av2", "argoverse2/logs", "7fab2350-7eaf-3b7e-a39d-6937a4c1bede"),
        ("mot", "mot/TUD-Campus", None),
    ],
)
def test_other_formats_import_with_matching_counts(
    db_factory: sessionmaker[Session],
    sample_dir: Path,
    tmp_path: Path,
    format_name: str,
    folder: str,
    sequence: str | None,
) -> None:
    blobs = BlobStore(str(tmp_path / "blobs"))
    with db_factory.begin() as s:
        team = make_team(s)
        row = scenes.import_scene(
            s, blobs, team.manager, team.project_id, format_name, sample_dir / folder, sequence
        )
    domain = read_scene(format_name, sample_dir / folder, sequence)
    with db_factory.begin() as s:
        _assert_rows_match(s, row.id, domain)
        loaded = scenes.load_scene(s, blobs, team.manager, row.id)
    # How far the lidar sees (Argoverse 2 says; the others leave it to the tools' default) survives too.
    assert (loaded.lidar and loaded.lidar.range_m) == (domain.lidar and domain.lidar.range_m)
    for name, layer in domain.layers.items():
        assert len(loaded.layers[name].tracks) == len(layer.tracks)
        assert len(loaded.layers[name].tracks_2d) == len(layer.tracks_2d)
        assert loaded.layers[name].shape_count() == layer.shape_count()
    sweeps = [f.lidar for f in domain.frames if f.lidar is not None]
    images = [ref for f in domain.frames for ref in f.images.values()]
    assert len(blob_files(tmp_path / "blobs")) == len(sweeps) + len(images)


def test_mot_tracks_are_kept_as_camera_tracks(
    db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path
) -> None:
    gt = sample_dir / "mot" / "TUD-Campus" / "gt.txt"
    ids = {line.split(",")[1] for line in gt.read_text().splitlines() if line.strip()}
    with db_factory.begin() as s:
        team = make_team(s)
        row = scenes.import_scene(
            s, BlobStore(str(tmp_path / "blobs")), SYSTEM, team.project_id, "mot", gt.parent
        )
    with db_factory.begin() as s:
        loaded = scenes.load_scene(s, BlobStore(str(tmp_path / "blobs")), SYSTEM, row.id)
    layer = loaded.layers["ground_truth"]
    assert {t.track_id for t in layer.tracks_2d} == ids
    boxes = sum(len(t.boxes) for t in layer.tracks_2d)
    assert boxes == sum(1 for line in gt.read_text().splitlines() if line.strip())


def test_only_managers_and_admins_import(
    db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path
) -> None:
    blobs = BlobStore(str(tmp_path / "blobs"))
    root = sample_dir / "sustechpoints"
    with db_factory.begin() as s:
        team = make_team(s)
        for actor in (team.annotator, team.reviewer):
            with pytest.raises(ForbiddenError):
                scenes.import_scene(s, blobs, actor, team.project_id, "sustechpoints", root)
        with pytest.raises(NotFoundError):
            scenes.import_scene(s, blobs, team.outsider, team.project_id, "sustechpoints", root)
        with pytest.raises(InvalidError) as unknown:
            scenes.import_scene(s, blobs, team.manager, team.project_id, "no-such-format", root)
        assert unknown.value.field == "format"
        assert table_counts(s)["scenes"] == 0
    assert blob_files(tmp_path / "blobs") == []


def _garble_line(path: Path, line_number: int) -> None:
    lines = path.read_text().splitlines(keepends=True)
    fields = lines[line_number - 1].split(" ")
    fields[13] = "not-a-number"  # the box's x coordinate
    lines[line_number - 1] = " ".join(fields)
    path.write_text("".join(lines))


def test_a_malformed_label_file_names_file_and_line_and_leaves_nothing(
    db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "kitti"
    shutil.copytree(sample_dir / "kitti-tracking", root)
    label_file = root / "training" / "label_02" / f"{KITTI_SEQUENCE}.txt"
    bad_line = len(label_file.read_text().splitlines()) // 2
    _garble_line(label_file, bad_line)
    blobs = BlobStore(str(tmp_path / "blobs"))
    with db_factory.begin() as s:
        team = make_team(s)
    with pytest.raises(InvalidError) as err, db_factory.begin() as s:
        scenes.import_scene(s, blobs, team.manager, team.project_id, "kitti-tracking", root, KITTI_SEQUENCE)
    assert str(label_file) in err.value.message and f"line {bad_line}" in err.value.message
    assert err.value.field == str(label_file)
    with db_factory.begin() as s:
        assert set(table_counts(s).values()) == {0}
    assert blob_files(tmp_path / "blobs") == []


def test_a_bad_sweep_midway_removes_the_blobs_already_written(
    db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "odometry"
    shutil.copytree(sample_dir / "kitti-odometry-00", root)
    middle = len(list((root / "clouds").glob("*.pcd"))) // 2
    bad = root / "clouds" / f"{middle}.pcd"
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])  # truncated mid-way through the points
    blobs = BlobStore(str(tmp_path / "blobs"))
    written: list[int] = []
    with db_factory.begin() as s:
        team = make_team(s)
    with pytest.raises(InvalidError) as err, db_factory.begin() as s:
        scenes.import_scene(
            s, blobs, team.manager, team.project_id, "kitti-odometry", root,
            progress=lambda done, _total: written.append(done),
        )  # fmt: skip
    assert str(bad) in err.value.message and err.value.field == str(bad)
    assert written == list(range(1, middle + 1))  # the frames before the bad one had been stored
    with db_factory.begin() as s:
        assert set(table_counts(s).values()) == {0}
    assert blob_files(tmp_path / "blobs") == []
