"""KITTI tracking export beyond the ground-truth round trip: candidate layers as results, and scenes
that did not come from KITTI (synthesised calibration, interpolated frames, other ego origins)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from labelpilot.formats import kitti_tracking
from labelpilot.geometry import Pose, normalize_yaw
from labelpilot.scenes import CameraIntrinsics, CameraSensor, LidarSensor, Scene, frames_from_poses
from labelpilot.tracks import AnnotationLayer, Keyframed, Track, TrackStatus

TRACKER = "pointrcnn_Car_hailanyi"


@pytest.fixture(scope="module")
def scene_0001(sample_dir: Path) -> Scene:
    return kitti_tracking.read(sample_dir / "kitti-tracking", "0001")


def split_lines(path: Path, sep: str | None = None) -> list[list[str]]:
    return [line.split(sep) for line in path.read_text().splitlines() if line.strip()]


def angle_gap(a: float, b: float) -> float:
    return abs(float(normalize_yaw(a - b)))


def test_tracker_layer_is_written_as_kitti_results(
    scene_0001: Scene, sample_dir: Path, tmp_path: Path
) -> None:
    source = sample_dir / "kitti-tracking" / "tracker" / TRACKER / "0001.txt"
    kitti_tracking.write(scene_0001, tmp_path, layer=f"auto:{TRACKER}")
    written = {(p[0], p[1]): p for p in split_lines(tmp_path / "training" / "label_02" / "0001.txt")}
    original = {(p[0], p[1]): p for p in split_lines(source)}
    assert written.keys() == original.keys()
    for key, parts in original.items():
        again = written[key]
        assert len(again) == 18 and again[2] == parts[2]
        assert again[3:5] == ["-1", "-1"]  # results carry no truncation / occlusion
        assert float(again[17]) == pytest.approx(float(parts[17]), abs=1e-6)
        # The track keeps one (median) size, so only the bottom centre's x and z are exact.
        assert float(again[13]) == pytest.approx(float(parts[13]), abs=1e-3)
        assert float(again[15]) == pytest.approx(float(parts[15]), abs=1e-3)
        # rot_y is unwrapped in the tracker file (e.g. -14.149); written back normalised.
        assert -np.pi <= float(again[16]) <= np.pi
        assert angle_gap(float(again[16]), float(parts[16])) < 1e-3


def test_detection_layer_is_written_with_one_id_per_detection(
    scene_0001: Scene, sample_dir: Path, tmp_path: Path
) -> None:
    detections = [
        p
        for f in sorted((sample_dir / "kitti-tracking" / "detections").glob("*/0001.txt"))
        for p in split_lines(f, ",")
    ]
    kitti_tracking.write(scene_0001, tmp_path, layer="auto:pointrcnn")
    lines = split_lines(tmp_path / "training" / "label_02" / "0001.txt")
    assert len(lines) == len(detections)
    assert len({p[1] for p in lines}) == len(lines)
    assert sorted(round(float(p[17]), 4) for p in lines) == sorted(round(float(p[6]), 4) for p in detections)


def moving_ego_poses(count: int) -> list[Pose]:
    """A drive that turns and pitches a little, starting away from the world origin (like a city frame)."""
    poses = []
    for i in range(count):
        rotation = Rotation.from_euler("zyx", [0.05 * i + 0.3, 0.01 * np.sin(i), 0.005 * i])
        poses.append(Pose.from_rotation_translation(rotation, [100.0 + 2.0 * i, -50.0 + 0.3 * i, 5.0]))
    return poses


def synthetic_scene(name: str, cameras: dict[str, CameraSensor], lidar: LidarSensor) -> Scene:
    frames = frames_from_poses(moving_ego_poses(6))
    scene = Scene(name=name, frames=frames, lidar=lidar, cameras=cameras, source_format="test")
    car_keys = {
        0: frames[0].world_T_ego @ Pose.from_yaw(0.2, [12.0, 2.0, -0.8]),
        4: frames[4].world_T_ego @ Pose.from_yaw(-0.1, [8.0, -1.0, -0.8]),
    }
    car = Track.keyframed("car-a", "REGULAR_VEHICLE", [4.5, 1.9, 1.6], car_keys)
    parked = Track(
        "7",
        "pedestrian",
        [0.6, 0.7, 1.8],
        Keyframed({1: frames[1].world_T_ego @ Pose.from_yaw(2.5, [15.0, 4.0, -0.9])}),
        first_frame=1,
        last_frame=5,
        absent_frames=frozenset({3}),
    )
    rejected = Track.keyframed(
        "bad", "Car", [4.0, 1.8, 1.5], {2: Pose.identity()}, status=TrackStatus.REJECTED
    )
    scene.add_layer(AnnotationLayer("work", [car, parked, rejected]))
    return scene


def assert_same_shapes_in_lidar_frame(original: Scene, reread: Scene, layer: str) -> None:
    """KITTI's ego is the lidar, so the written shapes must equal the originals in the lidar frame."""
    assert original.lidar is not None
    lidar_T_ego = original.lidar.ego_T_sensor.inverse()
    by_label = {t.label: t for t in reread.layer("ground_truth").tracks}
    for track in original.layer(layer).tracks:
        if track.status is TrackStatus.REJECTED:
            continue
        expected = original.ego_shapes(track).cuboids.transformed(lidar_T_ego)
        got_track = by_label["Car" if track.label == "REGULAR_VEHICLE" else "Pedestrian"]
        got = reread.ego_shapes(got_track)
        assert got.frames.tolist() == original.ego_shapes(track).frames.tolist()
        np.testing.assert_allclose(got.cuboids.centers, expected.centers, atol=1e-4)
        np.testing.assert_allclose(got.cuboids.sizes, expected.sizes, atol=1e-4)
        gaps = [angle_gap(a, b) for a, b in zip(got.cuboids.yaws, expected.yaws, strict=True)]
        assert max(gaps) < 1e-3


def test_scene_without_cameras_gets_a_synthesised_calibration(tmp_path: Path) -> None:
    scene = synthetic_scene("drive-17", {}, LidarSensor("top", Pose.identity()))
    written = kitti_tracking.write(scene, tmp_path, layer="work")
    assert {p.name for p in written} == {"0000.txt"}  # not a 4-digit name: sequence 0000
    lines = split_lines(tmp_path / "training" / "label_02" / "0000.txt")
    frames_by_id: dict[str, list[int]] = defaultdict(list)
    for parts in lines:
        frames_by_id[parts[1]].append(int(parts[0]))
        assert len(parts) == 17 and parts[3:5] == ["0", "0"]
    # The car is written in every frame of its life (interpolated between keyframes), the
    # pedestrian not in its absent frame, and the rejected track not at all.
    assert sorted(frames_by_id.values()) == [[0, 1, 2, 3, 4], [1, 2, 4, 5]]
    assert "7" in frames_by_id  # numeric ids are kept; the others are numbered after them
    reread = kitti_tracking.read(tmp_path)
    assert len(reread.frames) == len(scene.frames)
    assert_same_shapes_in_lidar_frame(scene, reread, "work")
    # The written poses move the ego exactly as the scene did, relative to its first frame.
    first = scene.frames[0].world_T_ego.inverse()
    for frame, again in zip(scene.frames, reread.frames, strict=True):
        assert again.world_T_ego.allclose(first @ frame.world_T_ego, atol=1e-6)


def test_scene_with_its_own_camera_and_lidar_offset(tmp_path: Path) -> None:
    k = np.array([[1000.0, 0.0, 960.0], [0.0, 1000.0, 600.0], [0.0, 0.0, 1.0]])
    camera_axes = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
    # The camera looks 1 degree down. KITTI boxes turn about the camera's y axis only, so a box
    # upright in the ego frame loses that tilt: its yaw moves by ~tilt^2 (3e-4 rad), its centre not.
    tilt = Rotation.from_euler("y", 0.0175).as_matrix()
    camera = CameraSensor(
        "ring_front_center",
        Pose.from_rotation_translation(tilt @ camera_axes, [1.6, 0.1, 1.4]),
        CameraIntrinsics(k, 1920, 1200),
    )
    lidar = LidarSensor("top", Pose.from_rotation_translation(np.eye(3), [1.2, 0.0, 1.9]))
    scene = synthetic_scene("0042", {camera.name: camera}, lidar)
    kitti_tracking.write(scene, tmp_path, layer="work")
    reread = kitti_tracking.read(tmp_path, "0042")
    np.testing.assert_allclose(reread.cameras["image_02"].intrinsics.matrix, k, atol=1e-9)
    # The written calibration puts the camera where the scene had it, relative to the lidar.
    lidar_T_camera = lidar.ego_T_sensor.inverse() @ camera.ego_T_sensor
    assert reread.cameras["image_02"].ego_T_sensor.allclose(lidar_T_camera, atol=1e-9)
    assert_same_shapes_in_lidar_frame(scene, reread, "work")
    # 2D boxes were projected into the camera: every visible car box lies in the image.
    for parts in split_lines(tmp_path / "training" / "label_02" / "0042.txt"):
        x1, y1, x2, y2 = (float(v) for v in parts[6:10])
        assert 0 <= x1 < x2 <= 1919 and 0 <= y1 < y2 <= 1199


def test_unknown_layer_is_refused_before_anything_is_written(scene_0001: Scene, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no layer 'work'"):
        kitti_tracking.write(scene_0001, tmp_path / "out", layer="work")
    assert not (tmp_path / "out").exists()
