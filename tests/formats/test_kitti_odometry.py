"""KITTI odometry import: the sova-layout sample (PCD clouds + GT poses with times, or sova poses) and
KITTI's own layout (velodyne .bin + poses/NN.txt + times.txt), built here from the sample clouds."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree

from labelpilot.formats import FormatError, kitti_odometry, read_scene
from labelpilot.formats.sweeps import read_sweep
from labelpilot.geometry import Pose
from labelpilot.scenes import BlobRef, Scene


@pytest.fixture(scope="module")
def folder(sample_dir: Path) -> Path:
    return sample_dir / "kitti-odometry-00"


@pytest.fixture(scope="module")
def scene(folder: Path) -> Scene:
    return kitti_odometry.read(folder)


def gt_rows(folder: Path) -> np.ndarray:
    """time + 12 numbers per line of the ground-truth file."""
    path = next(folder.glob("*_with_time.txt"))
    return np.array([line.split() for line in path.read_text().splitlines() if line.strip()], dtype=float)


def velo_from_cam0(folder: Path) -> np.ndarray:
    """Tr (velo -> camera 0) from calib.txt, 4 x 4."""
    for line in (folder / "calib.txt").read_text().splitlines():
        if line.startswith("Tr:"):
            return np.vstack([np.array(line.split()[1:], dtype=float).reshape(3, 4), [0, 0, 0, 1]])
    raise AssertionError("no Tr in calib.txt")


def expected_velo_poses(folder: Path, camera_rows: np.ndarray) -> np.ndarray:
    """inv(Tr) @ T_cam @ Tr per row, with numpy, as the source documents it."""
    tr = velo_from_cam0(folder)
    cams = np.concatenate(
        [camera_rows.reshape(-1, 3, 4), np.tile([[[0, 0, 0, 1.0]]], (len(camera_rows), 1, 1))], 1
    )
    return np.linalg.inv(tr) @ cams @ tr


def cloud_numbers(folder: Path) -> list[int]:
    return sorted(int(p.stem) for p in (folder / "clouds").glob("*.pcd"))


def test_frames_follow_the_clouds_in_numeric_order(scene: Scene, folder: Path) -> None:
    numbers = cloud_numbers(folder)
    assert len(scene.frames) == len(numbers) == numbers[-1] + 1
    for frame, number in zip(scene.frames, numbers, strict=True):
        assert frame.lidar is not None and frame.lidar.encoding == "pcd"
        assert Path(frame.lidar.url) == (folder / "clouds" / f"{number}.pcd").resolve()
    assert scene.lidar is not None and scene.lidar.ego_T_sensor.allclose(Pose.identity())
    assert scene.source_format == "kitti-odometry"


def test_ground_truth_poses_and_times_are_preferred(scene: Scene, folder: Path) -> None:
    rows = gt_rows(folder)[: len(scene.frames)]
    assert [f.timestamp_us for f in scene.frames] == [round(t * 1e6) for t in rows[:, 0]]
    np.testing.assert_allclose(scene.world_T_ego_array(), expected_velo_poses(folder, rows[:, 1:]), atol=1e-6)
    assert any("ground truth with times" in note for note in scene.notes)
    # In the Velodyne frame the car drives forward along x (about 0.86 m in the first step).
    step = scene.frames[1].world_T_ego.translation
    assert step[0] > 0.8 and abs(step[1]) < 0.1 and abs(step[2]) < 0.1


def test_sweeps_align_with_the_ground_truth_relative_poses(sample_dir: Path) -> None:
    """Moving sweep i+1 into frame i with the poses brings it closer to sweep i; the inverse does not.

    Runs on the 30-frame demo drive: in the first few frames the car barely moves.
    """
    scene = read_scene("kitti-odometry", sample_dir / "kitti-odometry-00-demo")
    rng = np.random.default_rng(0)
    aligned, unaligned, inverted = [], [], []
    for i in range(0, len(scene.frames) - 1, 3):
        first, second = scene.frames[i], scene.frames[i + 1]
        assert first.lidar is not None and second.lidar is not None
        target = cKDTree(read_sweep(first.lidar)[:, :3].astype(np.float64))
        moving = read_sweep(second.lidar)[:, :3].astype(np.float64)
        moving = moving[rng.choice(len(moving), 5000, replace=False)]
        relative = first.world_T_ego.inverse() @ second.world_T_ego
        aligned.append(float(np.median(target.query(relative.apply(moving))[0])))
        unaligned.append(float(np.median(target.query(moving)[0])))
        inverted.append(float(np.median(target.query(relative.inverse().apply(moving))[0])))
    assert all(a < u for a, u in zip(aligned, unaligned, strict=True))
    assert np.mean(aligned) < 0.85 * np.mean(unaligned) < np.mean(inverted)


def test_sova_poses_are_used_without_the_ground_truth_file(folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "kitti-odometry-00"
    copy.mkdir()
    (copy / "clouds").symlink_to(folder / "clouds", target_is_directory=True)
    shutil.copytree(folder / "poses_sova", copy / "poses_sova")
    shutil.copy(folder / "calib.txt", copy / "calib.txt")
    scene = kitti_odometry.read(copy, "00")
    sova = np.array(
        [(copy / "poses_sova" / f"{n}.txt").read_text().split() for n in cloud_numbers(folder)], float
    )
    np.testing.assert_allclose(scene.world_T_ego_array(), expected_velo_poses(folder, sova), atol=1e-6)
    assert [f.timestamp_us for f in scene.frames[:3]] == [0, 100_000, 200_000]
    assert any("sova" in note for note in scene.notes)
    assert "no times: frames are taken as 10 Hz" in scene.notes
    with pytest.raises(FormatError, match="holds sequence '00' only"):
        kitti_odometry.read(copy, "05")


@pytest.fixture
def dataset_root(folder: Path, tmp_path: Path) -> Path:
    """KITTI's own layout, made from the first three sample clouds (as .bin, intensity 0)."""
    root = tmp_path / "dataset"
    velodyne = root / "sequences" / "00" / "velodyne"
    velodyne.mkdir(parents=True)
    for number in range(3):
        points = read_sweep_pcd(folder / "clouds" / f"{number}.pcd")
        np.c_[points[:, :3], np.zeros(len(points))].astype("<f4").tofile(velodyne / f"{number:06d}.bin")
    shutil.copy(folder / "calib.txt", root / "sequences" / "00" / "calib.txt")
    rows = gt_rows(folder)[:5]
    (root / "sequences" / "00" / "times.txt").write_text("".join(f"{t:e}\n" for t in rows[:, 0]))
    (root / "poses").mkdir()
    (root / "poses" / "00.txt").write_text(
        "".join(" ".join(f"{v:.9e}" for v in r) + "\n" for r in rows[:, 1:])
    )
    return root


def read_sweep_pcd(path: Path) -> np.ndarray:
    return read_sweep(BlobRef(str(path), "pcd"))


def test_kitti_layout_reads_bin_sweeps_poses_and_times(
    dataset_root: Path, scene: Scene, folder: Path
) -> None:
    small = kitti_odometry.read(dataset_root)
    assert small.name == "00" and len(small.frames) == 3
    for i, frame in enumerate(small.frames):
        assert frame.lidar is not None and frame.lidar.encoding == "kitti-bin"
        assert Path(frame.lidar.url).name == f"{i:06d}.bin"
        assert frame.timestamp_us == scene.frames[i].timestamp_us
        assert frame.world_T_ego.allclose(scene.frames[i].world_T_ego, atol=1e-6)
    assert small.frames[1].lidar is not None
    np.testing.assert_array_equal(
        read_sweep(small.frames[1].lidar)[:, :3], read_sweep_pcd(folder / "clouds" / "1.pcd")[:, :3]
    )
    assert kitti_odometry.read(dataset_root, "0").name == "00"
    with pytest.raises(FormatError, match="no sequence '05'; this root holds: 00") as err:
        kitti_odometry.read(dataset_root, "5")
    assert err.value.field == "sequence"


def test_kitti_layout_without_poses_keeps_the_ego_still(dataset_root: Path) -> None:
    (dataset_root / "poses" / "00.txt").unlink()
    still = kitti_odometry.read(dataset_root, "00")
    assert all(f.world_T_ego.allclose(Pose.identity()) for f in still.frames)
    assert "no poses: the ego is taken as still" in still.notes


def test_kitti_layout_with_too_few_times(dataset_root: Path) -> None:
    times = dataset_root / "sequences" / "00" / "times.txt"
    times.write_text("".join(times.read_text().splitlines(keepends=True)[:2]))
    with pytest.raises(FormatError, match="has 2 times but sweeps go up to number 2") as err:
        kitti_odometry.read(dataset_root)
    assert err.value.path == str(times) and err.value.line == 3
