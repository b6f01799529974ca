"""Argoverse 2 import on the bundled real log fragments; expected values come from the feather files."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.feather as feather
import pytest

from labelpilot.formats import FormatError, av2, read_scene
from labelpilot.formats.sweeps import read_sweep
from labelpilot.geometry import CuboidBatch
from labelpilot.geometry.points_in_cuboids import count_points_in_cuboids
from labelpilot.scenes import Scene
from labelpilot.tracks import TrackStatus

ROOT = Path(__file__).resolve().parents[2] / "data" / "sample" / "argoverse2"
LOGS = ROOT / "logs"
LOG_IDS = sorted(p.name for p in LOGS.iterdir() if p.is_dir())
CAMERA_LOG = "7fab2350-7eaf-3b7e-a39d-6937a4c1bede"
TRACKER_LOG = "3b3570b4-7b0b-3268-a571-b0889dbf40b6"
SMALL_LOG = "b87683ae-14c5-321f-8af3-623e7bafc3a7"  # annotations only: the quickest to read
EGO = "EGO_VEHICLE"
# Objects that cannot move: their city-frame position may only jitter by annotation noise.
STATIC_CATEGORIES = {"BOLLARD", "CONSTRUCTION_CONE", "SIGN"}


def columns(path: Path) -> dict[str, np.ndarray[Any, Any]]:
    table = feather.read_table(path)
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def annotations_of(log_id: str) -> dict[str, np.ndarray[Any, Any]]:
    for name in ("annotations.feather", "annotations_with_ego.feather"):
        if (LOGS / log_id / name).is_file():
            return columns(LOGS / log_id / name)
    raise AssertionError(f"log {log_id} has no annotations")


def has_poses(log_id: str) -> bool:
    return (LOGS / log_id / "city_SE3_egovehicle.feather").is_file()


def quat_rotation(w: float, x: float, y: float, z: float) -> np.ndarray[Any, Any]:
    """Rotation matrix of a unit quaternion w + xi + yj + zk, written out (no library ordering involved)."""
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


@pytest.fixture(scope="module")
def scenes() -> dict[str, Scene]:
    return {log_id: av2.read(LOGS / log_id) for log_id in LOG_IDS}


def frame_stamps_ns(log_id: str) -> np.ndarray[Any, Any]:
    return np.unique(annotations_of(log_id)["timestamp_ns"])


# --- frames and poses -------------------------------------------------------------------------


@pytest.mark.parametrize("log_id", LOG_IDS)
def test_frames_are_the_sorted_unique_annotation_timestamps(scenes: dict[str, Scene], log_id: str) -> None:
    scene = scenes[log_id]
    stamps = frame_stamps_ns(log_id)
    assert scene.name == log_id
    assert scene.source_format == "av2"
    assert len(scene.frames) == len(stamps)
    assert [f.timestamp_us for f in scene.frames] == (stamps // 1000).tolist()
    period_s = float(np.median(np.diff(stamps))) / 1e9
    assert f"{len(stamps)} frames at {1 / period_s:.1f} Hz" in scene.notes[0]


@pytest.mark.parametrize("log_id", [i for i in LOG_IDS if has_poses(i)])
def test_ego_poses_are_the_pose_rows_with_the_exact_timestamp(scenes: dict[str, Scene], log_id: str) -> None:
    poses = columns(LOGS / log_id / "city_SE3_egovehicle.feather")
    row_of = {int(t): r for r, t in enumerate(poses["timestamp_ns"])}
    for frame, stamp in zip(scenes[log_id].frames, frame_stamps_ns(log_id), strict=True):
        r = row_of[int(stamp)]
        rotation = quat_rotation(poses["qw"][r], poses["qx"][r], poses["qy"][r], poses["qz"][r])
        translation = [poses["tx_m"][r], poses["ty_m"][r], poses["tz_m"][r]]
        np.testing.assert_allclose(frame.world_T_ego.rotation_matrix, rotation, atol=1e-9)
        np.testing.assert_allclose(frame.world_T_ego.translation, translation, atol=1e-9)


@pytest.mark.parametrize("log_id", [i for i in LOG_IDS if not has_poses(i)])
def test_a_log_without_poses_keeps_the_ego_still_and_says_so(scenes: dict[str, Scene], log_id: str) -> None:
    scene = scenes[log_id]
    assert all(np.array_equal(f.world_T_ego.matrix, np.eye(4)) for f in scene.frames)
    assert any("no city_SE3_egovehicle.feather" in note for note in scene.notes)
    assert not any("world = city frame" in note for note in scene.notes)


# --- ground truth -------------------------------------------------------------------------------


@pytest.mark.parametrize("log_id", LOG_IDS)
def test_track_counts_per_category_match_the_file(scenes: dict[str, Scene], log_id: str) -> None:
    ann = annotations_of(log_id)
    objects = ann["category"] != EGO
    uuids_per_category: dict[str, set[str]] = defaultdict(set)
    for uuid, category in zip(ann["track_uuid"][objects], ann["category"][objects], strict=True):
        uuids_per_category[category].add(uuid)
    expected = {c: len(u) for c, u in sorted(uuids_per_category.items())}
    layer = scenes[log_id].layer("ground_truth")
    assert layer.counts_by_label() == expected
    assert layer.shape_count() == int(objects.sum())
    assert all(t.status is TrackStatus.CONFIRMED and t.provenance.kind == "imported" for t in layer)


def test_the_ego_vehicle_rows_are_not_tracks(scenes: dict[str, Scene]) -> None:
    ego_rows = int((annotations_of(TRACKER_LOG)["category"] == EGO).sum())
    assert ego_rows > 0  # this log's file is annotations_with_ego.feather
    scene = scenes[TRACKER_LOG]
    assert EGO not in scene.layer("ground_truth").counts_by_label()
    assert any(f"{ego_rows} {EGO} rows" in note for note in scene.notes)


@pytest.mark.parametrize("log_id", LOG_IDS)
def test_world_boxes_map_back_to_the_files_ego_boxes(scenes: dict[str, Scene], log_id: str) -> None:
    """city_T_ego @ ego box, derived back through Scene.ego_shapes, is the file's row to 1e-6."""
    scene, ann = scenes[log_id], annotations_of(log_id)
    frame_of = {int(t): i for i, t in enumerate(frame_stamps_ns(log_id))}
    row_of = {
        (uuid, frame_of[int(t)]): r
        for r, (uuid, t) in enumerate(zip(ann["track_uuid"], ann["timestamp_ns"], strict=True))
    }
    compared = 0
    for track in scene.layer("ground_truth"):
        shapes = scene.ego_shapes(track)
        rows = [row_of[(track.track_id, int(f))] for f in shapes.frames]
        assert len(rows) == sum(1 for uuid in ann["track_uuid"] if uuid == track.track_id)
        centers = np.stack([ann["tx_m"][rows], ann["ty_m"][rows], ann["tz_m"][rows]], axis=1)
        quats = np.stack([ann["qx"][rows], ann["qy"][rows], ann["qz"][rows], ann["qw"][rows]], axis=1)
        np.testing.assert_allclose(shapes.cuboids.centers, centers, atol=1e-6)
        same_sign = np.abs(shapes.cuboids.quats_xyzw - quats).max(axis=1)
        flipped = np.abs(shapes.cuboids.quats_xyzw + quats).max(axis=1)
        assert np.minimum(same_sign, flipped).max() < 1e-6
        sizes = np.stack([ann["length_m"][rows], ann["width_m"][rows], ann["height_m"][rows]], axis=1)
        np.testing.assert_allclose(shapes.cuboids.sizes, sizes, atol=1e-9)
        compared += len(rows)
    assert compared == int((ann["category"] != EGO).sum())


@pytest.mark.parametrize("log_id", [i for i in LOG_IDS if has_poses(i)])
def test_objects_that_cannot_move_stay_put_in_the_city_frame(scenes: dict[str, Scene], log_id: str) -> None:
    scene = scenes[log_id]
    static = [
        t for t in scene.layer("ground_truth") if t.label in STATIC_CATEGORIES and len(t.frames()) >= 20
    ]
    assert static, "the log should have long-lived static objects"
    largest_ego_spread = 0.0
    for track in static:
        world = scene.world_shapes(track).cuboids.centers
        ego = scene.ego_shapes(track).cuboids.centers
        assert np.linalg.norm(world - world.mean(axis=0), axis=1).max() < 0.5, track.track_id
        largest_ego_spread = max(largest_ego_spread, float(np.ptp(ego[:, :2], axis=0).max()))
    # The same objects sweep across the ego frame: the city transform is doing the work.
    assert largest_ego_spread > 10.0


@pytest.mark.parametrize("log_id", [i for i in LOG_IDS if has_poses(i)])
def test_parked_vehicles_have_one_city_pose(scenes: dict[str, Scene], log_id: str) -> None:
    """Vehicles that moved a lot relative to the ego yet sit within 0.3 m in the city frame exist in each log."""
    scene = scenes[log_id]
    parked = 0
    for track in scene.layer("ground_truth"):
        if track.label != "REGULAR_VEHICLE" or len(track.frames()) < 20:
            continue
        world = scene.world_shapes(track).cuboids
        ego_centers = scene.ego_shapes(track).cuboids.centers
        world_spread = np.linalg.norm(world.centers - world.centers.mean(axis=0), axis=1).max()
        if world_spread < 0.3 and np.ptp(ego_centers[:, :2], axis=0).max() > 3.0:
            parked += 1
            # Nor does a parked car turn (beyond annotation noise; one car in 3b3570b4 swings 0.37 rad briefly).
            yaws = np.unwrap(world.yaws)
            assert np.median(np.abs(yaws - np.median(yaws))) < 0.05, track.track_id
    assert parked >= 1


# --- lidar ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("log_id", LOG_IDS)
def test_frames_reference_the_sweep_files_that_exist(scenes: dict[str, Scene], log_id: str) -> None:
    scene = scenes[log_id]
    folder = LOGS / log_id / "sensors" / "lidar"
    files = {int(p.stem): p for p in folder.glob("*.feather")} if folder.is_dir() else {}
    assert scene.lidar is not None and np.array_equal(scene.lidar.ego_T_sensor.matrix, np.eye(4))
    for frame, stamp in zip(scene.frames, frame_stamps_ns(log_id), strict=True):
        if int(stamp) in files:
            assert frame.lidar is not None
            assert Path(frame.lidar.url) == files[int(stamp)] and frame.lidar.encoding == "av2-feather"
        else:
            assert frame.lidar is None
    without = len(scene.frames) - len(files)
    assert any(f"no lidar for {without} of {len(scene.frames)} frames" in n for n in scene.notes)


def sweep_frames() -> list[tuple[str, int]]:
    out = []
    for log_id in LOG_IDS:
        stamps = frame_stamps_ns(log_id).tolist()
        for sweep in sorted((LOGS / log_id / "sensors" / "lidar").glob("*.feather")):
            out.append((log_id, stamps.index(int(sweep.stem))))
    return out


@pytest.mark.parametrize(("log_id", "frame"), sweep_frames())
def test_points_in_each_derived_box_equal_num_interior_pts(
    scenes: dict[str, Scene], log_id: str, frame: int
) -> None:
    scene, ann = scenes[log_id], annotations_of(log_id)
    ref = scene.frames[frame].lidar
    assert ref is not None
    points = read_sweep(ref)[:, :3].astype(np.float64)
    stamp = int(frame_stamps_ns(log_id)[frame])
    expected = {
        uuid: int(n)
        for uuid, t, n in zip(ann["track_uuid"], ann["timestamp_ns"], ann["num_interior_pts"], strict=True)
        if int(t) == stamp
    }
    shapes = scene.shapes_in_frame("ground_truth", frame, "ego")
    assert sorted(t.track_id for t, _ in shapes) == sorted(expected)
    counts = count_points_in_cuboids(points, CuboidBatch.from_cuboids([c for _, c in shapes]))
    assert counts.tolist() == [expected[t.track_id] for t, _ in shapes]
    assert [t.frame_attributes[frame]["num_interior_pts"] for t, _ in shapes] == counts.tolist()
    assert counts.sum() > 0


# --- cameras -------------------------------------------------------------------------------------


def test_cameras_carry_the_files_calibration(scenes: dict[str, Scene]) -> None:
    cameras = scenes[CAMERA_LOG].cameras
    intrinsics = columns(LOGS / CAMERA_LOG / "calibration" / "intrinsics.feather")
    extrinsics = columns(LOGS / CAMERA_LOG / "calibration" / "egovehicle_SE3_sensor.feather")
    assert sorted(cameras) == sorted(intrinsics["sensor_name"].tolist())
    pose_row = {name: r for r, name in enumerate(extrinsics["sensor_name"])}
    for i, name in enumerate(intrinsics["sensor_name"]):
        camera = cameras[name].intrinsics
        expected_k = [
            [intrinsics["fx_px"][i], 0, intrinsics["cx_px"][i]],
            [0, intrinsics["fy_px"][i], intrinsics["cy_px"][i]],
            [0, 0, 1],
        ]
        np.testing.assert_allclose(camera.matrix, expected_k)
        assert (camera.width, camera.height) == (intrinsics["width_px"][i], intrinsics["height_px"][i])
        k1, k2, k3 = (float(intrinsics[k][i]) for k in ("k1", "k2", "k3"))
        assert camera.distortion == (k1, k2, 0.0, 0.0, k3)
        r = pose_row[name]
        rotation = quat_rotation(
            extrinsics["qw"][r], extrinsics["qx"][r], extrinsics["qy"][r], extrinsics["qz"][r]
        )
        np.testing.assert_allclose(cameras[name].ego_T_sensor.rotation_matrix, rotation, atol=1e-9)
        np.testing.assert_allclose(
            cameras[name].ego_T_sensor.translation,
            [extrinsics["tx_m"][r], extrinsics["ty_m"][r], extrinsics["tz_m"][r]],
        )


def test_the_front_camera_looks_forward_in_opencv_axes(scenes: dict[str, Scene]) -> None:
    rotation = scenes[CAMERA_LOG].cameras["ring_front_center"].ego_T_sensor.rotation_matrix
    # Columns are the camera axes in the ego frame: x right (-y ego), y down (-z ego), z forward (+x ego).
    np.testing.assert_allclose(rotation[:, 0], [0, -1, 0], atol=0.02)
    np.testing.assert_allclose(rotation[:, 1], [0, 0, -1], atol=0.02)
    np.testing.assert_allclose(rotation[:, 2], [1, 0, 0], atol=0.02)


def test_box_centres_ahead_project_into_the_front_image(scenes: dict[str, Scene]) -> None:
    scene = scenes[CAMERA_LOG]
    camera = scene.cameras["ring_front_center"]
    sensor_T_ego = camera.ego_T_sensor.inverse()
    k, width, height = camera.intrinsics.matrix, camera.intrinsics.width, camera.intrinsics.height
    half_fov = np.arctan(0.5 * width / k[0, 0])
    ahead = behind = 0
    for frame in range(0, len(scene.frames), 10):
        for _, cuboid in scene.shapes_in_frame("ground_truth", frame, "ego"):
            x, y, _ = cuboid.center
            p_cam = sensor_T_ego.apply(cuboid.center)
            if x > 5.0 and abs(np.arctan2(y, x)) < 0.8 * half_fov:
                u, v, w = k @ p_cam
                assert w > 0 and 0 <= u / w < width and 0 <= v / w < height, (frame, cuboid)
                ahead += 1
            elif x < -5.0:
                assert p_cam[2] < 0  # behind the camera
                behind += 1
    assert ahead > 10 and behind > 10


# --- choosing a log ------------------------------------------------------------------------------


@pytest.mark.parametrize("where", [ROOT, LOGS])
def test_a_folder_of_logs_needs_a_log_id(where: Path) -> None:
    with pytest.raises(FormatError) as err:
        av2.read(where)
    assert all(log_id in str(err.value) for log_id in LOG_IDS)
    with pytest.raises(FormatError, match="no-such-log"):
        av2.read(where, "no-such-log")
    assert av2.read(where, SMALL_LOG).name == SMALL_LOG


def test_a_log_directory_is_read_directly_and_through_the_registry() -> None:
    assert read_scene("av2", LOGS / SMALL_LOG).name == SMALL_LOG
    assert read_scene("av2", LOGS / SMALL_LOG, SMALL_LOG).name == SMALL_LOG
    with pytest.raises(FormatError, match=TRACKER_LOG):
        av2.read(LOGS / SMALL_LOG, TRACKER_LOG)


@pytest.mark.shared_data
def test_every_shared_log_imports(shared_data: Path) -> None:
    logs = shared_data / "argoverse2" / "logs"
    for log_dir in sorted(p for p in logs.iterdir() if p.is_dir()):
        scene = av2.read(logs / log_dir.name)
        stamps = np.unique(annotations_of_dir(log_dir)["timestamp_ns"])
        assert [f.timestamp_us for f in scene.frames] == (stamps // 1000).tolist()
        assert len(scene.layer("ground_truth")) > 0


def annotations_of_dir(log_dir: Path) -> dict[str, np.ndarray[Any, Any]]:
    for name in ("annotations.feather", "annotations_with_ego.feather"):
        if (log_dir / name).is_file():
            return columns(log_dir / name)
    raise AssertionError(f"{log_dir} has no annotations")
