"""The command line on the bundled real data."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelpilot.cli import app

runner = CliRunner(env={"COLUMNS": "240", "NO_COLOR": "1"})


def _label_counts(label_file: Path) -> tuple[int, dict[str, int]]:
    """Frames and tracks per class, counted straight from a KITTI label file."""
    classes: dict[str, str] = {}
    last_frame = 0
    for line in label_file.read_text().splitlines():
        parts = line.split()
        last_frame = max(last_frame, int(parts[0]))
        if parts[2] != "DontCare":
            classes[parts[1]] = parts[2]
    return last_frame + 1, dict(collections.Counter(classes.values()))


def test_inspect_kitti_tracking_0001(sample_dir: Path) -> None:
    root = sample_dir / "kitti-tracking"
    result = runner.invoke(app, ["inspect", "kitti-tracking", str(root), "--sequence", "0001"])
    assert result.exit_code == 0, result.output
    pose_rows = len((root / "poses" / "orbslam3" / "0001.txt").read_text().splitlines())
    label_frames, per_class = _label_counts(root / "training" / "label_02" / "0001.txt")
    frames = max(pose_rows, label_frames)
    assert frames == 447
    lines = result.output.splitlines()
    assert any(line.split()[:2] == ["frames", str(frames)] for line in lines), result.output
    gt_row = next(line for line in lines if "ground_truth" in line)
    for label, count in per_class.items():
        assert f"{label}: {count}" in gt_row


def test_inspect_unknown_format_exits_2(sample_dir: Path) -> None:
    result = runner.invoke(app, ["inspect", "nuscenes", str(sample_dir)])
    assert result.exit_code == 2
    assert "unknown format 'nuscenes'" in result.output


def test_inspect_bad_file_names_file_and_line(sample_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "kitti"
    src = sample_dir / "kitti-tracking"
    (root / "training" / "label_02").mkdir(parents=True)
    (root / "training" / "calib").mkdir(parents=True)
    (root / "training" / "calib" / "0000.txt").write_bytes(
        (src / "training" / "calib" / "0000.txt").read_bytes()
    )
    lines = (src / "training" / "label_02" / "0000.txt").read_text().splitlines()
    lines[5] = " ".join(lines[5].split()[:9])  # cut the line short
    bad = root / "training" / "label_02" / "0000.txt"
    bad.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["inspect", "kitti-tracking", str(root), "--sequence", "0000"])
    assert result.exit_code == 2
    message = " ".join(result.output.split())
    assert str(bad) in message.replace(" ", "") or "0000.txt" in message
    assert "line 6" in message


@pytest.mark.parametrize("target", ["openlabel", "kitti-tracking"])
def test_convert_writes_output(sample_dir: Path, tmp_path: Path, target: str) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "convert",
            "kitti-tracking",
            str(sample_dir / "kitti-tracking"),
            "-s",
            "0000",
            "--to",
            target,
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert any(p.is_file() for p in out.rglob("*")) or out.is_file()


def test_convert_refuses_a_read_only_format_and_writes_nothing(sample_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "convert",
            "kitti-tracking",
            str(sample_dir / "kitti-tracking"),
            "-s",
            "0000",
            "--to",
            "av2",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 2
    assert "cannot write 'av2'" in result.output
    assert not out.exists()
