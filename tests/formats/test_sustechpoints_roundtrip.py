"""SUSTechPOINTS export: read -> write -> read keeps frames, names, calibration and boxes; bad input is named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from labelpilot.formats import sustechpoints
from labelpilot.formats.errors import FormatError
from labelpilot.formats.sweeps import read_sweep, write_sweep
from labelpilot.scenes import BlobRef, Scene


@pytest.fixture(scope="module")
def source(sample_dir: Path) -> Path:
    return sample_dir / "sustechpoints"


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _assert_same_tracks(a: Scene, b: Scene, layer: str = "ground_truth") -> None:
    tracks_a = {t.track_id: t for t in a.layer(layer).tracks}
    tracks_b = {t.track_id: t for t in b.layer(layer).tracks}
    assert sorted(tracks_a) == sorted(tracks_b)
    for track_id, ta in tracks_a.items():
        tb = tracks_b[track_id]
        assert (ta.label, ta.frames()) == (tb.label, tb.frames())
        np.testing.assert_allclose(ta.size, tb.size, atol=1e-6)
        shapes_a, shapes_b = a.ego_shapes(ta), b.ego_shapes(tb)
        for i in range(len(shapes_a)):
            assert shapes_a.cuboids[i].allclose(shapes_b.cuboids[i], atol=1e-6), (track_id, i)


def test_round_trip_keeps_files_tracks_and_calibration(source: Path, tmp_path: Path) -> None:
    scene = sustechpoints.read(source)
    out = tmp_path / "scene"
    written = sustechpoints.write(scene, out)
    source_files = [f for f in _files(source) if f.split("/")[0] in ("lidar", "camera", "calib", "label")]
    assert _files(out) == source_files  # the same layout and file names
    assert sorted(str(p.relative_to(out)) for p in written) == source_files
    for rel in source_files:
        if rel.startswith(("lidar/", "camera/")):
            assert (out / rel).read_bytes() == (source / rel).read_bytes(), rel
        if rel.startswith("calib/"):
            ours, theirs = json.loads((out / rel).read_text()), json.loads((source / rel).read_text())
            for key in ("extrinsic", "intrinsic"):
                np.testing.assert_allclose(ours[key], theirs[key], atol=1e-12)
        if rel.startswith("label/"):
            ours, theirs = json.loads((out / rel).read_text()), json.loads((source / rel).read_text())
            assert sorted(o["obj_id"] for o in ours) == sorted(o["obj_id"] for o in theirs)
            for obj in theirs:
                mine = next(o for o in ours if o["obj_id"] == obj["obj_id"])
                assert mine["obj_type"] == obj["obj_type"]
                np.testing.assert_allclose(
                    [mine["psr"]["position"][a] for a in "xyz"], [obj["psr"]["position"][a] for a in "xyz"]
                )
    again = sustechpoints.read(out)
    assert sustechpoints.frame_names(again) == sustechpoints.frame_names(scene)
    assert sorted(again.cameras) == sorted(scene.cameras)
    for name, camera in scene.cameras.items():
        np.testing.assert_allclose(
            again.cameras[name].ego_T_sensor.matrix, camera.ego_T_sensor.matrix, atol=1e-12
        )
    _assert_same_tracks(scene, again)


def test_sweeps_in_other_encodings_are_written_as_pcd(source: Path, tmp_path: Path) -> None:
    scene = sustechpoints.read(source)
    frame = scene.frames[1]
    assert frame.lidar is not None
    points = read_sweep(frame.lidar)
    frame.lidar = write_sweep(points, tmp_path / "sweeps" / f"{Path(frame.lidar.url).stem}.bin", "kitti-bin")
    out = tmp_path / "scene"
    sustechpoints.write(scene, out)
    again = sustechpoints.read(out)
    assert again.frames[1].lidar is not None
    np.testing.assert_array_equal(read_sweep(again.frames[1].lidar), points)
    _assert_same_tracks(scene, again)


def _copy_scene(source: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(source, copy)
    return copy


def test_garbled_calibration_names_the_file(source: Path, tmp_path: Path) -> None:
    copy = _copy_scene(source, tmp_path)
    calib = copy / "calib" / "camera" / "left.json"
    calib.write_text(calib.read_text()[:-40])
    with pytest.raises(FormatError) as err:
        sustechpoints.read(copy)
    assert err.value.path == str(calib)
    assert err.value.line is not None


def test_calibration_with_a_short_extrinsic_names_the_field(source: Path, tmp_path: Path) -> None:
    copy = _copy_scene(source, tmp_path)
    calib = copy / "calib" / "camera" / "front.json"
    data = json.loads(calib.read_text())
    data["extrinsic"] = data["extrinsic"][:12]
    calib.write_text(json.dumps(data))
    with pytest.raises(FormatError) as err:
        sustechpoints.read(copy)
    assert (err.value.path, err.value.field) == (str(calib), "extrinsic")


def test_garbled_label_names_the_file_and_line(source: Path, tmp_path: Path) -> None:
    copy = _copy_scene(source, tmp_path)
    label = copy / "label" / "000970.json"
    cut = label.read_text()[:2000]
    label.write_text(cut)
    with pytest.raises(FormatError) as err:
        sustechpoints.read(copy)
    assert err.value.path == str(label)
    assert err.value.line == cut.count("\n") + 1  # the JSON breaks off on the last line left


def test_label_without_a_position_names_the_field(source: Path, tmp_path: Path) -> None:
    copy = _copy_scene(source, tmp_path)
    label = copy / "label" / "000975.json"
    objects = json.loads(label.read_text())
    del objects[3]["psr"]["position"]["y"]
    label.write_text(json.dumps(objects))
    with pytest.raises(FormatError) as err:
        sustechpoints.read(copy)
    assert (err.value.path, err.value.field) == (str(label), "[3].psr.position.y")


def test_truncated_pcd_names_the_file(source: Path, tmp_path: Path) -> None:
    copy = _copy_scene(source, tmp_path)
    cloud = copy / "lidar" / "000965.pcd"
    cloud.write_bytes(cloud.read_bytes()[:100_000])
    with pytest.raises(FormatError) as err:
        sustechpoints.read(copy)
    assert err.value.path == str(cloud)
    assert err.value.field == "POINTS"


def test_failed_export_writes_nothing(source: Path, tmp_path: Path) -> None:
    scene = sustechpoints.read(source)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(b"\0" * 20)  # not whole 16-byte records: decoding it fails after other files are staged
    scene.frames[-1].lidar = BlobRef(str(cut), "kitti-bin")
    out = tmp_path / "scene"
    with pytest.raises(FormatError) as err:
        sustechpoints.write(scene, out)
    assert err.value.path == str(cut)
    assert not out.exists() or not _files(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.bin"]  # no staging left behind


def test_scene_folder_inside_a_data_folder(source: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(source, data / "example")
    assert sustechpoints.read(data).name == "example"
    assert sustechpoints.read(data, "example").name == "example"
    shutil.copytree(source, data / "second")
    with pytest.raises(FormatError, match="example, second"):
        sustechpoints.read(data)
