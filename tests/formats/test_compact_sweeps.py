"""The compact cm-npz sweep encoding of the bundled demo drive."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelpilot.formats import FormatError, read_scene
from labelpilot.formats.pcd import read_pcd
from labelpilot.formats.sweeps import read_sweep, write_sweep
from labelpilot.scenes import BlobRef


def test_round_trip_is_within_half_a_centimetre(sample_dir: Path, tmp_path: Path) -> None:
    points = read_pcd(sample_dir / "kitti-odometry-00" / "clouds" / "2.pcd")
    ref = write_sweep(points, tmp_path / "2.npz", "cm-npz")
    back = read_sweep(ref)
    assert back.shape == points.shape
    assert np.abs(back[:, :3] - points[:, :3]).max() <= 0.0051
    assert (tmp_path / "2.npz").stat().st_size < (
        sample_dir / "kitti-odometry-00" / "clouds" / "2.pcd"
    ).stat().st_size / 4


def test_demo_drive_matches_the_pcd_sample(sample_dir: Path) -> None:
    demo = read_scene("kitti-odometry", sample_dir / "kitti-odometry-00-demo")
    pcd = read_scene("kitti-odometry", sample_dir / "kitti-odometry-00")
    assert len(demo.frames) == len(list((sample_dir / "kitti-odometry-00-demo" / "clouds").glob("*.npz")))
    for frame in pcd.frames:
        assert frame.lidar is not None
        other = demo.frames[frame.index]
        assert other.lidar is not None and other.lidar.encoding == "cm-npz"
        assert other.world_T_ego.allclose(frame.world_T_ego, atol=1e-9)
        a, b = read_sweep(frame.lidar), read_sweep(other.lidar)
        assert a.shape == b.shape and np.abs(a[:, :3] - b[:, :3]).max() <= 0.0051


def test_points_beyond_int16_centimetres_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="327"):
        write_sweep(np.array([[400.0, 0, 0, 0]], dtype=np.float32), tmp_path / "far.npz", "cm-npz")
    assert not (tmp_path / "far.npz").exists()


def test_a_garbled_file_names_itself(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(FormatError, match=r"bad\.npz"):
        read_sweep(BlobRef(str(bad), "cm-npz"))
