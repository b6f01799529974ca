"""PCD reading and writing on real clouds: SUSTechPOINTS (48-byte padded records) and KITTI via sova (x y z)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pypcd4.pypcd4 import Encoding, PointCloud

from labelpilot.formats.errors import FormatError
from labelpilot.formats.pcd import check_pcd, read_pcd, write_pcd


def _header(path: Path) -> tuple[dict[str, list[str]], int]:
    """The header lines as key -> values, and the byte offset where the data starts."""
    raw = path.read_bytes()
    values: dict[str, list[str]] = {}
    offset = 0
    for line in raw.split(b"\n"):
        offset += len(line) + 1
        text = line.decode("ascii").strip()
        if text.startswith("#") or not text:
            continue
        key, *rest = text.split()
        values[key] = rest
        if key == "DATA":
            return values, offset
    raise AssertionError(f"{path} has no DATA line")


def _sustech_clouds(sample_dir: Path) -> list[Path]:
    return sorted((sample_dir / "sustechpoints" / "lidar").glob("*.pcd"))


def _kitti_clouds(sample_dir: Path) -> list[Path]:
    return sorted((sample_dir / "kitti-odometry-00" / "clouds").glob("*.pcd"))[:5]


def test_point_counts_match_the_header(sample_dir: Path) -> None:
    clouds = _sustech_clouds(sample_dir) + _kitti_clouds(sample_dir)
    assert len(clouds) == len(_sustech_clouds(sample_dir)) + min(5, len(_kitti_clouds(sample_dir))) >= 5
    for path in clouds:
        header, _ = _header(path)
        points = read_pcd(path)
        expected = int(header["WIDTH"][0]) * int(header["HEIGHT"][0])
        assert expected == int(header["POINTS"][0])
        assert points.shape == (expected, 4)
        assert points.dtype == np.float32


@pytest.mark.shared_data
def test_every_shared_cloud_matches_its_header(shared_data: Path) -> None:
    clouds = sorted(shared_data.glob("*/**/*.pcd"))
    assert clouds
    for path in clouds:
        header, _ = _header(path)
        assert read_pcd(path).shape == (int(header["POINTS"][0]), 4), path


def test_sustechpoints_padded_records_match_a_direct_parse(sample_dir: Path) -> None:
    for path in _sustech_clouds(sample_dir):
        header, offset = _header(path)
        n = int(header["POINTS"][0])
        widths = [int(s) * int(c) for s, c in zip(header["SIZE"], header["COUNT"], strict=True)]
        record = sum(widths)
        assert record == 48  # as SOURCE.txt says
        raw = path.read_bytes()
        assert len(raw) - offset > n * record  # trailing bytes after the records: must be ignored
        intensity_at = sum(widths[: header["FIELDS"].index("intensity")])
        table = np.frombuffer(raw, dtype="<f4", count=n * record // 4, offset=offset).reshape(n, record // 4)
        points = read_pcd(path)
        picks = [0, 1, n // 2, n - 1]
        np.testing.assert_array_equal(points[picks, :3], table[picks, :3])
        np.testing.assert_array_equal(points[picks, 3], table[picks, intensity_at // 4])
        assert points[:, 3].max() > 0  # the clouds do carry intensity


def test_kitti_xyz_clouds_match_a_direct_parse_and_have_zero_intensity(sample_dir: Path) -> None:
    for path in _kitti_clouds(sample_dir):
        header, offset = _header(path)
        n = int(header["POINTS"][0])
        direct = np.frombuffer(path.read_bytes(), dtype="<f4", offset=offset).reshape(n, 3)
        points = read_pcd(path)
        np.testing.assert_array_equal(points[:, :3], direct)
        assert not points[:, 3].any()


@pytest.mark.parametrize("compressed", [False, True])
def test_write_read_round_trip(sample_dir: Path, tmp_path: Path, compressed: bool) -> None:
    source = read_pcd(_sustech_clouds(sample_dir)[0])
    out = write_pcd(tmp_path / "cloud.pcd", source, compressed=compressed)
    header, _ = _header(out)
    assert header["FIELDS"] == ["x", "y", "z", "intensity"]
    assert header["DATA"] == ["binary_compressed" if compressed else "binary"]
    np.testing.assert_array_equal(read_pcd(out), source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cloud.pcd"]  # no staging leftovers


def test_reads_ascii_written_by_pypcd4(sample_dir: Path, tmp_path: Path) -> None:
    source = read_pcd(_kitti_clouds(sample_dir)[0])[:2000]
    path = tmp_path / "ascii.pcd"
    PointCloud.from_xyzi_points(source).save(path, encoding=Encoding.ASCII)
    np.testing.assert_allclose(read_pcd(path), source, atol=1e-6)


def _truncated_copy(source: Path, tmp_path: Path, keep: int) -> Path:
    path = tmp_path / source.name
    path.write_bytes(source.read_bytes()[:keep])
    return path


def test_truncated_binary_cloud_names_file_and_points_field(sample_dir: Path, tmp_path: Path) -> None:
    source = _sustech_clouds(sample_dir)[0]
    path = _truncated_copy(source, tmp_path, source.stat().st_size // 2)
    for reader in (read_pcd, check_pcd):
        with pytest.raises(FormatError) as err:
            reader(path)
        assert err.value.path == str(path)
        assert err.value.field == "POINTS"
        assert "truncated" in str(err.value)


def test_truncated_compressed_cloud_is_a_format_error(sample_dir: Path, tmp_path: Path) -> None:
    written = write_pcd(tmp_path / "full.pcd", read_pcd(_kitti_clouds(sample_dir)[0]), compressed=True)
    (tmp_path / "cut").mkdir()
    path = _truncated_copy(written, tmp_path / "cut", written.stat().st_size - 1000)
    with pytest.raises(FormatError, match="cut short") as err:
        read_pcd(path)
    assert err.value.path == str(path)


@pytest.mark.parametrize(
    ("line", "replacement", "field"),
    [
        ("WIDTH", "WIDTH abc", "WIDTH"),
        ("POINTS", "POINTS 12", "POINTS"),
        ("FIELDS", "FIELDS a b c _ intensity _ timestamp _ ring _", "FIELDS"),
        ("SIZE", "SIZE 4 4 4", "SIZE"),
        ("DATA", "DATA binary_packed", "DATA"),
    ],
)
def test_malformed_header_names_the_field(
    sample_dir: Path, tmp_path: Path, line: str, replacement: str, field: str
) -> None:
    source = _sustech_clouds(sample_dir)[0]
    raw = source.read_bytes()
    start = raw.index(f"\n{line} ".encode()) + 1
    end = raw.index(b"\n", start)
    path = tmp_path / "bad.pcd"
    path.write_bytes(raw[:start] + replacement.encode() + raw[end:])
    with pytest.raises(FormatError) as err:
        read_pcd(path)
    assert err.value.path == str(path)
    assert err.value.field == field


def test_a_jpeg_is_not_a_pcd(sample_dir: Path) -> None:
    image = sample_dir / "sustechpoints" / "camera" / "front" / "000965.jpg"
    with pytest.raises(FormatError) as err:
        read_pcd(image)
    assert err.value.path == str(image)


def test_write_rejects_wrong_shape(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="N x 4"):
        write_pcd(tmp_path / "x.pcd", np.zeros((5, 3), dtype=np.float32))
    assert not list(tmp_path.iterdir())
