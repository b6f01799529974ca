"""Sweep blobs in every encoding, on real sweeps: KITTI odometry PCDs, Argoverse 2 feathers, written .bin/.npy."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow.feather as feather
import pytest

from labelpilot.formats.errors import FormatError
from labelpilot.formats.pcd import read_pcd
from labelpilot.formats.sweeps import read_sweep, write_sweep
from labelpilot.scenes import BlobRef


def _kitti_pcd(sample_dir: Path) -> Path:
    return sample_dir / "kitti-odometry-00" / "clouds" / "0.pcd"


def _av2_sweeps(sample_dir: Path) -> list[Path]:
    return sorted((sample_dir / "argoverse2" / "logs").glob("*/sensors/lidar/*.feather"))


def test_pcd_sweeps(sample_dir: Path) -> None:
    clouds = sorted((sample_dir / "kitti-odometry-00" / "clouds").glob("*.pcd"))
    assert clouds
    for path in clouds[:3]:
        header = path.read_bytes()[:400].decode("ascii", errors="replace")
        points_line = next(line for line in header.splitlines() if line.startswith("POINTS"))
        points = read_sweep(BlobRef(str(path), "pcd"))
        assert points.shape == (int(points_line.split()[1]), 4)
        assert points.dtype == np.float32
        np.testing.assert_array_equal(points, read_pcd(path))


def test_av2_feather_sweeps_match_the_table(sample_dir: Path) -> None:
    sweeps = _av2_sweeps(sample_dir)
    assert len(sweeps) == 3
    for path in sweeps:
        table = feather.read_table(path)
        points = read_sweep(BlobRef(str(path), "av2-feather"))
        assert points.shape == (table.num_rows, 4)
        assert points.dtype == np.float32
        for i, column in enumerate(("x", "y", "z", "intensity")):
            np.testing.assert_array_equal(points[:, i], table.column(column).to_numpy().astype(np.float32))
        # The lidar sits on the roof: most returns lie within 100 m of the ego origin.
        assert np.median(np.linalg.norm(points[:, :2], axis=1)) < 100


def test_av2_feather_without_xyz_column_is_a_format_error(sample_dir: Path, tmp_path: Path) -> None:
    table = feather.read_table(_av2_sweeps(sample_dir)[0]).drop_columns(["y"])
    path = tmp_path / "no_y.feather"
    feather.write_feather(table, path)
    with pytest.raises(FormatError) as err:
        read_sweep(BlobRef(str(path), "av2-feather"))
    assert err.value.path == str(path)
    assert err.value.field == "y"


def test_av2_feather_without_intensity_reads_zero(sample_dir: Path, tmp_path: Path) -> None:
    table = feather.read_table(_av2_sweeps(sample_dir)[0])
    path = tmp_path / "xyz.feather"
    feather.write_feather(table.select(["x", "y", "z"]), path)
    points = read_sweep(BlobRef(str(path), "av2-feather"))
    assert points.shape == (table.num_rows, 4)
    assert not points[:, 3].any()


def test_kitti_bin_written_and_read(sample_dir: Path, tmp_path: Path) -> None:
    source = read_pcd(_kitti_pcd(sample_dir))
    source[:, 3] = np.linspace(0.0, 1.0, len(source), dtype=np.float32)  # make intensity visible in the check
    ref = write_sweep(source, tmp_path / "000000.bin", "kitti-bin")
    assert ref == BlobRef(str(tmp_path / "000000.bin"), "kitti-bin")
    raw = np.fromfile(tmp_path / "000000.bin", dtype="<f4")
    assert raw.size == source.size
    np.testing.assert_array_equal(raw.reshape(-1, 4), source)
    np.testing.assert_array_equal(read_sweep(ref), source)


def test_truncated_kitti_bin_is_a_format_error(sample_dir: Path, tmp_path: Path) -> None:
    source = read_pcd(_kitti_pcd(sample_dir))
    path = tmp_path / "cut.bin"
    path.write_bytes(source.tobytes()[:-6])
    with pytest.raises(FormatError) as err:
        read_sweep(BlobRef(str(path), "kitti-bin"))
    assert err.value.path == str(path)


@pytest.mark.parametrize("encoding", ["npy", "pcd"])
def test_write_read_round_trip(sample_dir: Path, tmp_path: Path, encoding: str) -> None:
    source = read_sweep(BlobRef(str(_av2_sweeps(sample_dir)[0]), "av2-feather"))
    ref = write_sweep(source, tmp_path / f"sweep.{encoding}", encoding)
    np.testing.assert_array_equal(read_sweep(ref), source)


def test_npy_with_three_columns_gets_zero_intensity(sample_dir: Path, tmp_path: Path) -> None:
    source = read_pcd(_kitti_pcd(sample_dir))
    path = tmp_path / "xyz.npy"
    np.save(path, source[:, :3].astype(np.float64))
    points = read_sweep(BlobRef(str(path), "npy"))
    np.testing.assert_array_equal(points[:, :3], source[:, :3])
    assert not points[:, 3].any()


def test_npy_with_wrong_shape_is_a_format_error(sample_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "flat.npy"
    np.save(path, read_pcd(_kitti_pcd(sample_dir)).reshape(-1))
    with pytest.raises(FormatError, match="N x 3 or N x 4") as err:
        read_sweep(BlobRef(str(path), "npy"))
    assert err.value.path == str(path)


def test_file_url(sample_dir: Path) -> None:
    path = _kitti_pcd(sample_dir).resolve()
    np.testing.assert_array_equal(read_sweep(BlobRef(path.as_uri(), "pcd")), read_pcd(path))


def test_unknown_encodings_and_remote_urls_are_named(sample_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="las"):
        read_sweep(BlobRef(str(_kitti_pcd(sample_dir)), "las"))
    with pytest.raises(ValueError, match=re.escape("s3://bucket/sweep.pcd")):
        read_sweep(BlobRef("s3://bucket/sweep.pcd", "pcd"))
    with pytest.raises(ValueError, match="av2-feather"):
        write_sweep(np.zeros((3, 4), dtype=np.float32), tmp_path / "x.feather", "av2-feather")
    assert not list(tmp_path.iterdir())


def test_feather_that_is_not_arrow_is_a_format_error(sample_dir: Path) -> None:
    path = _kitti_pcd(sample_dir)
    with pytest.raises(FormatError) as err:
        read_sweep(BlobRef(str(path), "av2-feather"))
    assert err.value.path == str(path)
