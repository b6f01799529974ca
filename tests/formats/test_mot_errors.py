"""Bad MOTChallenge input names the file and line; failed exports leave earlier output untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelpilot.formats import mot
from labelpilot.formats.errors import FormatError
from labelpilot.tracks import Box2D, Track2D

BAD_LINE = 17


def _garbled_copy(sample_dir: Path, tmp_path: Path, edit: str) -> Path:
    lines = (sample_dir / "mot" / "TUD-Campus" / "gt.txt").read_text().splitlines()
    v = lines[BAD_LINE - 1].split(",")
    if edit == "columns":
        v = v[:8]
    elif edit == "nan":
        v[4] = "nan"
    elif edit == "negative_width":
        v[4] = "-" + v[4]
    elif edit == "word":
        v[3] = "top"
    elif edit == "frame_zero":
        v[0] = "0"
    elif edit == "fractional_id":
        v[1] = v[1] + ".5"
    elif edit == "duplicate":
        v = lines[BAD_LINE - 2].split(",")
    lines[BAD_LINE - 1] = ",".join(v)
    path = tmp_path / "gt.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        ("columns", None),
        ("nan", None),
        ("negative_width", "bb_width"),
        ("word", None),
        ("frame_zero", "frame"),
        ("fractional_id", "id"),
        ("duplicate", None),
    ],
)
def test_bad_line_is_named(sample_dir: Path, tmp_path: Path, edit: str, field: str | None) -> None:
    path = _garbled_copy(sample_dir, tmp_path, edit)
    out = tmp_path / "out"
    with pytest.raises(FormatError) as err:
        mot.write(mot.read(path), out)
    assert err.value.path == str(path)
    assert err.value.line == BAD_LINE
    assert err.value.field == field
    assert not out.exists()


def test_mixed_layouts_are_named(sample_dir: Path, tmp_path: Path) -> None:
    lines = (sample_dir / "mot" / "TUD-Campus" / "gt.txt").read_text().splitlines()
    lines[BAD_LINE - 1] = ",".join(lines[BAD_LINE - 1].split(",")[:9])  # a 9-value line among 10-value ones
    path = tmp_path / "gt.txt"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError) as err:
        mot.read(path)
    assert err.value.line == BAD_LINE


def test_missing_ground_truth_is_named(tmp_path: Path) -> None:
    with pytest.raises(FormatError) as err:
        mot.read(tmp_path)
    assert err.value.path == str(tmp_path)


def test_failed_export_keeps_the_earlier_file(sample_dir: Path, tmp_path: Path) -> None:
    scene = mot.read(sample_dir / "mot" / "TUD-Campus" / "gt.txt")
    target = tmp_path / "gt.txt"
    mot.write(scene, target)
    before = target.read_bytes()
    # A second camera's track in the same layer cannot go into one MOT file.
    scene.layer("ground_truth").tracks_2d.append(
        Track2D("extra", "pedestrian", "other_camera", {0: Box2D(1.0, 2.0, 3.0, 4.0)})
    )
    with pytest.raises(ValueError, match="other_camera"):
        mot.write(scene, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt.txt"]
