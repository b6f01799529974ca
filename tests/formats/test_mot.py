"""MOTChallenge import/export on TUD-Campus: ground truth and a real tracker's output (motmetrics' fixtures)."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from labelpilot.formats import mot, sustechpoints
from labelpilot.formats.errors import FormatError
from labelpilot.scenes import Scene

Row = tuple[int, int, float, float, float, float, float]


@pytest.fixture(scope="module")
def sequence(sample_dir: Path) -> Path:
    return sample_dir / "mot" / "TUD-Campus"


def _rows(path: Path) -> list[Row]:
    """frame, id, left, top, width, height, conf of every line, parsed plainly."""
    rows: list[Row] = []
    for line in path.read_text().splitlines():
        if line.strip():
            v = line.split(",")
            rows.append((int(v[0]), int(v[1]), *(float(x) for x in v[2:7])))  # type: ignore[arg-type]
    return rows


def _scene_rows(scene: Scene, layer: str) -> list[Row]:
    return [
        (f + 1, int(t.track_id), b.left, b.top, b.width, b.height, b.score if b.score is not None else -1.0)
        for t in scene.layer(layer).tracks_2d
        for f, b in t.boxes.items()
    ]


def _assert_same_rows(a: list[Row], b: list[Row]) -> None:
    assert len(a) == len(b)
    for ra, rb in zip(sorted(a), sorted(b), strict=True):
        assert ra[:2] == rb[:2]
        np.testing.assert_allclose(ra[2:], rb[2:], atol=1e-3)


@pytest.mark.parametrize(("file", "layer"), [("gt.txt", "ground_truth"), ("test.txt", "auto:test")])
def test_counts_ids_and_boxes_per_file(sequence: Path, file: str, layer: str) -> None:
    rows = _rows(sequence / file)
    scene = mot.read(sequence / file)
    assert list(scene.layers) == [layer]
    assert scene.layer(layer).shape_count() == len(rows)
    assert {t.track_id for t in scene.layer(layer).tracks_2d} == {str(r[1]) for r in rows}
    assert len(scene.frames) == max(r[0] for r in rows)
    for track in scene.layer(layer).tracks_2d:
        assert len(track.boxes) == Counter(r[1] for r in rows)[int(track.track_id)]
        assert track.label == "pedestrian"
        assert track.camera == "camera"
    _assert_same_rows(_scene_rows(scene, layer), rows)
    assert "camera" in scene.cameras
    assert any("intrinsics unknown" in note for note in scene.notes)


def test_sequence_folder_and_root_with_sequence(sequence: Path) -> None:
    by_file = mot.read(sequence / "gt.txt")
    for scene in (mot.read(sequence), mot.read(sequence.parent, "TUD-Campus")):
        assert scene.name == "TUD-Campus"
        assert list(scene.layers) == ["ground_truth"]
        _assert_same_rows(_scene_rows(scene, "ground_truth"), _scene_rows(by_file, "ground_truth"))
    with pytest.raises(FormatError, match="TUD-Campus"):
        mot.read(sequence.parent)


def test_gt_in_a_gt_folder_with_seqinfo(sequence: Path, tmp_path: Path) -> None:
    seq = tmp_path / "TUD-Campus"
    (seq / "gt").mkdir(parents=True)
    shutil.copy(sequence / "gt.txt", seq / "gt" / "gt.txt")
    # TUD-Campus is 640 x 480 at 25 fps in MOTChallenge 2015; more frames than boxes reach.
    (seq / "seqinfo.ini").write_text(
        "[Sequence]\nname=TUD-Campus\nimDir=img1\nframeRate=25\nseqLength=80\nimWidth=640\nimHeight=480\nimExt=.jpg\n"
    )
    scene = mot.read(seq)
    assert len(scene.frames) == 80
    assert scene.frames[1].timestamp_us == 40_000
    assert (scene.cameras["camera"].intrinsics.width, scene.cameras["camera"].intrinsics.height) == (640, 480)
    assert scene.layer("ground_truth").shape_count() == len(_rows(sequence / "gt.txt"))


@pytest.mark.parametrize("file", ["gt.txt", "test.txt"])
def test_round_trip_reproduces_every_line(sequence: Path, tmp_path: Path, file: str) -> None:
    scene = mot.read(sequence / file)
    [written] = mot.write(scene, tmp_path / file)
    assert written == tmp_path / file
    _assert_same_rows(_rows(written), _rows(sequence / file))
    source_tail = {line.split(",", 7)[7] for line in (sequence / file).read_text().splitlines()}
    assert {line.split(",", 7)[7] for line in written.read_text().splitlines()} == source_tail
    again = mot.read(written)
    _assert_same_rows(_scene_rows(again, next(iter(again.layers))), _rows(sequence / file))


def test_write_into_a_folder_uses_the_motchallenge_layout(sequence: Path, tmp_path: Path) -> None:
    assert mot.write(mot.read(sequence / "gt.txt"), tmp_path) == [tmp_path / "gt" / "gt.txt"]
    assert mot.write(mot.read(sequence / "test.txt"), tmp_path) == [tmp_path / "TUD-Campus.txt"]
    _assert_same_rows(_rows(tmp_path / "TUD-Campus.txt"), _rows(sequence / "test.txt"))


def test_nine_value_ground_truth_classes(sequence: Path, tmp_path: Path) -> None:
    """The MOT16+ layout (conf flag, class, visibility) made from TUD-Campus: class 1 = pedestrian."""
    path = tmp_path / "gt.txt"
    lines = [
        ",".join([*line.split(",")[:7], "1", "1.0"])
        for line in (sequence / "gt.txt").read_text().splitlines()
    ]
    path.write_text("\n".join(lines) + "\n")
    scene = mot.read(path)
    tracks = scene.layer("ground_truth").tracks_2d
    assert {t.label for t in tracks} == {"pedestrian"}
    assert any("visibility" in note for note in scene.notes)
    # A person relabels one track as a car: the export needs the class column.
    relabelled = sorted(tracks, key=lambda t: int(t.track_id))[0]
    relabelled.label = "car"
    mot.write(scene, tmp_path / "out.txt")
    out = [line.split(",") for line in (tmp_path / "out.txt").read_text().splitlines()]
    assert {len(v) for v in out} == {9}
    assert {v[7] for v in out if v[1] == relabelled.track_id} == {"3"}
    assert {v[7] for v in out if v[1] != relabelled.track_id} == {"1"}
    again = mot.read(tmp_path / "out.txt")
    assert again.layer("auto:out").counts_by_label() == {"car": 1, "pedestrian": len(tracks) - 1}


def test_3d_tracks_are_projected_into_the_camera(sample_dir: Path, tmp_path: Path) -> None:
    scene = sustechpoints.read(sample_dir / "sustechpoints")
    camera = scene.cameras["front"]
    [written] = mot.write(scene, tmp_path / "front.txt", camera="front")
    rows = _rows(written)
    assert rows
    camera_T_ego = camera.ego_T_sensor.inverse()
    checked = 0
    for frame, track_id, left, top, width, height, _ in rows:
        shapes = dict(scene.shapes_in_frame("ground_truth", frame - 1))
        cuboid = next(c for t, c in shapes.items() if t.track_id == str(track_id))
        centre = camera_T_ego.apply(cuboid.center)
        u, v, w = camera.intrinsics.matrix @ centre
        if w > 1 and 0 <= u / w < camera.intrinsics.width and 0 <= v / w < camera.intrinsics.height:
            assert left <= u / w <= left + width and top <= v / w <= top + height
            checked += 1
    assert checked >= 15
