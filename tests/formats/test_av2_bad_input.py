"""Argoverse 2 import on garbled copies of the real logs: a FormatError naming file and field, nothing built."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pytest

from labelpilot.formats import FormatError, av2
from labelpilot.tracks import Keyframed

LOGS = Path(__file__).resolve().parents[2] / "data" / "sample" / "argoverse2" / "logs"
CAMERA_LOG = "7fab2350-7eaf-3b7e-a39d-6937a4c1bede"
TRACKER_LOG = "3b3570b4-7b0b-3268-a571-b0889dbf40b6"
ANNOTATIONS = "annotations.feather"
POSES = "city_SE3_egovehicle.feather"
TRACKER = "tracker_predictions.feather"
INTRINSICS = "calibration/intrinsics.feather"
EXTRINSICS = "calibration/egovehicle_SE3_sensor.feather"

Table = Any  # pyarrow.Table


def copy_log(tmp_path: Path, log_id: str) -> Path:
    return Path(shutil.copytree(LOGS / log_id, tmp_path / log_id))


def rewrite(path: Path, change: Callable[[Table], Table]) -> None:
    feather.write_feather(change(feather.read_table(path)), path)


def replace_column(table: Table, name: str, values: Any) -> Table:
    return table.set_column(table.column_names.index(name), name, pa.array(values))


def set_value(name: str, row: int, value: Any) -> Callable[[Table], Table]:
    def change(table: Table) -> Table:
        values = table.column(name).to_pylist()
        values[row] = value
        return replace_column(table, name, pa.array(values, type=table.column(name).type))

    return change


def drop_column(name: str) -> Callable[[Table], Table]:
    return lambda table: table.drop_columns([name])


def files_in(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# (case id, log, file, change, field the error must name, text the message must contain)
CASES: list[tuple[str, str, str, Callable[[Table], Table], str | None, str]] = [
    (
        "annotations-missing-column",
        CAMERA_LOG,
        ANNOTATIONS,
        drop_column("tz_m"),
        "tz_m",
        "missing required column",
    ),
    (
        "annotations-nan-centre",
        CAMERA_LOG,
        ANNOTATIONS,
        set_value("tx_m", 17, float("nan")),
        "tx_m",
        "row 17",
    ),
    (
        "annotations-inf-length",
        CAMERA_LOG,
        ANNOTATIONS,
        set_value("length_m", 3, float("inf")),
        "length_m",
        "row 3",
    ),
    (
        "annotations-null-uuid",
        CAMERA_LOG,
        ANNOTATIONS,
        set_value("track_uuid", 5, None),
        "track_uuid",
        "row 5",
    ),
    (
        "annotations-negative-width",
        CAMERA_LOG,
        ANNOTATIONS,
        set_value("width_m", 9, -1.0),
        "width_m",
        "row 9",
    ),
    ("annotations-bad-quaternion", CAMERA_LOG, ANNOTATIONS, set_value("qw", 4, 7.0), "qw", "row 4"),
    (
        "annotations-text-in-numbers",
        CAMERA_LOG,
        ANNOTATIONS,
        lambda t: replace_column(t, "ty_m", [str(v) for v in t.column("ty_m").to_pylist()]),
        "ty_m",
        "expected numbers",
    ),
    (
        "annotations-two-boxes-one-track-one-time",
        CAMERA_LOG,
        ANNOTATIONS,
        lambda t: pa.concat_tables([t, t.slice(11, 1)]),
        "track_uuid",
        "two boxes",
    ),
    (
        "annotations-negative-point-count",
        CAMERA_LOG,
        ANNOTATIONS,
        set_value("num_interior_pts", 2, -4),
        "num_interior_pts",
        "row 2",
    ),
    ("annotations-empty", CAMERA_LOG, ANNOTATIONS, lambda t: t.slice(0, 0), None, "no annotation rows"),
    ("poses-missing-column", CAMERA_LOG, POSES, drop_column("qx"), "qx", "missing required column"),
    ("poses-nan", CAMERA_LOG, POSES, set_value("ty_m", 40, float("nan")), "ty_m", "row 40"),
    (
        "poses-repeated-timestamp",
        CAMERA_LOG,
        POSES,
        lambda t: pa.concat_tables([t, t.slice(100, 1)]),
        "timestamp_ns",
        "two poses",
    ),
    ("tracker-missing-score", TRACKER_LOG, TRACKER, drop_column("score"), "score", "missing required column"),
    ("tracker-nan-yaw", TRACKER_LOG, TRACKER, set_value("yaw", 33, float("nan")), "yaw", "row 33"),
    ("tracker-zero-height", TRACKER_LOG, TRACKER, set_value("height_m", 8, 0.0), "height_m", "row 8"),
    (
        "tracker-duplicate-prediction",
        TRACKER_LOG,
        TRACKER,
        lambda t: pa.concat_tables([t, t.slice(21, 1)]),
        "track_id",
        "two boxes",
    ),
    (
        "intrinsics-missing-fx",
        CAMERA_LOG,
        INTRINSICS,
        drop_column("fx_px"),
        "fx_px",
        "missing required column",
    ),
    (
        "extrinsics-camera-missing",
        CAMERA_LOG,
        EXTRINSICS,
        lambda t: t.filter(pa.array([n != "ring_side_left" for n in t.column("sensor_name").to_pylist()])),
        "sensor_name",
        "ring_side_left",
    ),
]


@pytest.mark.parametrize(
    ("log_id", "file", "change", "field", "text"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_garbled_table_is_a_format_error_naming_file_and_field(
    tmp_path: Path, log_id: str, file: str, change: Callable[[Table], Table], field: str | None, text: str
) -> None:
    log_dir = copy_log(tmp_path, log_id)
    rewrite(log_dir / file, change)
    before = files_in(log_dir)
    with pytest.raises(FormatError) as err:
        av2.read(log_dir)
    assert Path(err.value.path) == log_dir / file
    assert err.value.field == field
    assert text in str(err.value)
    assert files_in(log_dir) == before  # reading never writes


def test_an_annotation_timestamp_without_a_pose_row(tmp_path: Path) -> None:
    log_dir = copy_log(tmp_path, CAMERA_LOG)
    stamps = np.unique(feather.read_table(log_dir / ANNOTATIONS).column("timestamp_ns").to_numpy())
    lost = int(stamps[10])
    rewrite(log_dir / POSES, lambda t: t.filter(pa.array(t.column("timestamp_ns").to_numpy() != lost)))
    with pytest.raises(FormatError) as err:
        av2.read(log_dir)
    assert Path(err.value.path) == log_dir / POSES
    assert err.value.field == "timestamp_ns"
    assert str(lost) in str(err.value)


@pytest.mark.parametrize("file", [ANNOTATIONS, POSES, EXTRINSICS])
@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_an_unreadable_feather_file(tmp_path: Path, file: str, damage: str) -> None:
    log_dir = copy_log(tmp_path, CAMERA_LOG)
    path = log_dir / file
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"not arrow at all\n" * 50)
    with pytest.raises(FormatError) as err:
        av2.read(log_dir)
    assert Path(err.value.path) == path
    assert "not a readable feather" in str(err.value)


def test_a_missing_annotations_file(tmp_path: Path) -> None:
    log_dir = copy_log(tmp_path, CAMERA_LOG)
    (log_dir / ANNOTATIONS).unlink()
    with pytest.raises(FormatError) as err:
        av2.read(log_dir)
    assert Path(err.value.path) == log_dir / ANNOTATIONS


def test_half_a_calibration(tmp_path: Path) -> None:
    log_dir = copy_log(tmp_path, CAMERA_LOG)
    (log_dir / INTRINSICS).unlink()
    with pytest.raises(FormatError) as err:
        av2.read(log_dir)
    assert Path(err.value.path) == log_dir / INTRINSICS


def shift_tracker_timestamps(log_dir: Path, shift_ns: int) -> None:
    rewrite(
        log_dir / TRACKER,
        lambda t: replace_column(t, "timestamp_ns", t.column("timestamp_ns").to_numpy() + shift_ns),
    )


def test_tracker_timestamps_within_5ms_go_to_the_nearest_frame(tmp_path: Path) -> None:
    original = av2.read(LOGS / TRACKER_LOG).layer("auto:tracker")
    log_dir = copy_log(tmp_path, TRACKER_LOG)
    shift_tracker_timestamps(log_dir, -3_000_000)
    scene = av2.read(log_dir)
    shifted = scene.layer("auto:tracker")
    for before, after in zip(original, shifted, strict=True):
        assert isinstance(before.motion, Keyframed) and isinstance(after.motion, Keyframed)
        assert before.track_id == after.track_id
        assert before.motion.frames == after.motion.frames
        assert all(a["timestamp_offset_ns"] == -3_000_000 for a in after.frame_attributes.values())
    assert any("matched to the nearest frame (at most 3.000 ms away)" in n for n in scene.notes)


def test_tracker_timestamps_beyond_5ms_are_an_error(tmp_path: Path) -> None:
    log_dir = copy_log(tmp_path, TRACKER_LOG)
    shift_tracker_timestamps(log_dir, 6_000_000)
    with pytest.raises(FormatError) as err:
        av2.read(log_dir)
    assert Path(err.value.path) == log_dir / TRACKER
    assert err.value.field == "timestamp_ns"
    assert "row 0" in str(err.value) and "6.000 ms" in str(err.value)


def test_a_path_that_is_no_log(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="no Argoverse 2 log"):
        av2.read(tmp_path)
    with pytest.raises(FormatError, match="not a directory"):
        av2.read(tmp_path / "missing")
