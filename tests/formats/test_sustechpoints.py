"""SUSTechPOINTS import on the real example scene: frames, cameras, labels, and the calibration convention."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image
from scipy.stats import spearmanr

from labelpilot.formats import sustechpoints
from labelpilot.formats.sweeps import read_sweep
from labelpilot.geometry import Pose
from labelpilot.scenes import CameraSensor, Scene


@pytest.fixture(scope="module")
def source(sample_dir: Path) -> Path:
    return sample_dir / "sustechpoints"


@pytest.fixture(scope="module")
def scene(source: Path) -> Scene:
    return sustechpoints.read(source)


def _labels(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    assert isinstance(data, list)
    return data


def _rotation_xyz(angles: dict[str, float]) -> NDArray[np.float64]:
    """SUSTechPOINTS' own definition: R = Rx(x) @ Ry(y) @ Rz(z)."""
    cx, sx = np.cos(angles["x"]), np.sin(angles["x"])
    cy, sy = np.cos(angles["y"]), np.sin(angles["y"])
    cz, sz = np.cos(angles["z"]), np.sin(angles["z"])
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    rotation: NDArray[np.float64] = rx @ ry @ rz
    return rotation


def test_frames_cameras_and_names(scene: Scene, source: Path) -> None:
    stems = sorted(p.stem for p in (source / "lidar").glob("*.pcd"))
    assert len(scene.frames) == len(stems)
    assert [Path(f.lidar.url).stem for f in scene.frames if f.lidar] == stems
    assert sustechpoints.frame_names(scene) == stems
    assert sorted(scene.cameras) == sorted(p.name for p in (source / "camera").iterdir())
    for frame, stem in zip(scene.frames, stems, strict=True):
        assert sorted(frame.images) == sorted(scene.cameras)
        assert all(Path(ref.url).stem == stem for ref in frame.images.values())
        assert frame.world_T_ego.allclose(Pose.identity())
    assert [f.timestamp_us for f in scene.frames] == [i * 100_000 for i in range(len(stems))]
    assert any("no ego poses" in note for note in scene.notes)
    for name, camera in scene.cameras.items():
        with Image.open(source / "camera" / name / f"{stems[0]}.jpg") as image:
            assert (camera.intrinsics.width, camera.intrinsics.height) == image.size
        calib = json.loads((source / "calib" / "camera" / f"{name}.json").read_text())
        np.testing.assert_allclose(camera.intrinsics.matrix.reshape(-1), calib["intrinsic"])
        camera_T_lidar = np.linalg.inv(camera.ego_T_sensor.matrix) @ scene.lidar.ego_T_sensor.matrix  # type: ignore[union-attr]
        np.testing.assert_allclose(camera_T_lidar.reshape(-1), calib["extrinsic"], atol=1e-12)


def test_label_counts_ids_and_boxes_equal_the_json(scene: Scene, source: Path) -> None:
    layer = scene.layer("ground_truth")
    stems = sustechpoints.frame_names(scene)
    total = 0
    ids: set[str] = set()
    for index, stem in enumerate(stems):
        objects = _labels(source / "label" / f"{stem}.json")
        total += len(objects)
        in_frame = {t.track_id: c for t, c in scene.shapes_in_frame("ground_truth", index)}
        assert sorted(in_frame) == sorted(str(o["obj_id"]) for o in objects)
        for obj in objects:
            ids.add(str(obj["obj_id"]))
            cuboid = in_frame[str(obj["obj_id"])]
            psr = obj["psr"]
            np.testing.assert_allclose(cuboid.center, [psr["position"][a] for a in "xyz"], atol=1e-9)
            np.testing.assert_allclose(cuboid.rotation.as_matrix(), _rotation_xyz(psr["rotation"]), atol=1e-9)
            assert layer.track(str(obj["obj_id"])).label == obj["obj_type"]
    assert layer.shape_count() == total
    assert {t.track_id for t in layer.tracks} == ids


def test_track_size_is_the_median_of_its_labelled_sizes(scene: Scene, source: Path) -> None:
    scales: dict[str, list[list[float]]] = {}
    for stem in sustechpoints.frame_names(scene):
        for obj in _labels(source / "label" / f"{stem}.json"):
            scales.setdefault(str(obj["obj_id"]), []).append([obj["psr"]["scale"][a] for a in "xyz"])
    varying = 0
    for track in scene.layer("ground_truth").tracks:
        np.testing.assert_allclose(track.size, np.median(scales[track.track_id], axis=0), atol=1e-12)
        varying += int(np.ptp(scales[track.track_id], axis=0).max() > 0)
    assert varying > 0  # the sample does have objects whose size changes: the note must say so
    assert any("median size" in note for note in scene.notes)


def _camera_T_lidar(scene: Scene, camera: CameraSensor) -> Pose:
    assert scene.lidar is not None
    return camera.ego_T_sensor.inverse() @ scene.lidar.ego_T_sensor


def _project(points: NDArray[np.float64], camera_T_lidar: Pose, camera: CameraSensor) -> NDArray[np.float64]:
    """Pixel u, v and depth of lidar-frame points."""
    cam = camera_T_lidar.apply(points)
    uvw = cam @ camera.intrinsics.matrix.T
    return np.column_stack([uvw[:, :2] / uvw[:, 2:], cam[:, 2]])


def _inside(uvd: NDArray[np.float64], camera: CameraSensor) -> NDArray[np.bool_]:
    u, v = uvd[:, 0], uvd[:, 1]
    w, h = camera.intrinsics.width, camera.intrinsics.height
    return (u >= 0) & (u < w) & (v >= 0) & (v < h)


def test_lidar_points_project_into_the_images_upright(scene: Scene) -> None:
    for frame in scene.frames:
        assert frame.lidar is not None
        points = read_sweep(frame.lidar)[:, :3].astype(np.float64)
        for name, camera in scene.cameras.items():
            uvd = _project(points, _camera_T_lidar(scene, camera), camera)
            ahead = uvd[:, 2] > 1.0
            inside = _inside(uvd, camera) & ahead
            share = inside.sum() / ahead.sum()
            assert share > 0.3, f"{name}: only {share:.2f} of the points ahead land in the image"
            # Higher points (lidar z is up) must appear higher in the image (smaller v).
            rho = spearmanr(points[inside, 2], uvd[inside, 1]).statistic
            assert rho < -0.6, f"{name}, frame {frame.index}: height vs image row rank correlation {rho:.2f}"


def test_the_upright_check_rejects_the_opposite_convention(scene: Scene) -> None:
    """Control: taking the extrinsic as camera -> lidar instead puts the side cameras' points in disorder."""
    frame = scene.frames[0]
    assert frame.lidar is not None
    points = read_sweep(frame.lidar)[:, :3].astype(np.float64)
    for name in ("left", "right"):
        camera = scene.cameras[name]
        wrong = _camera_T_lidar(scene, camera).inverse()
        uvd = _project(points, wrong, camera)
        inside = _inside(uvd, camera) & (uvd[:, 2] > 1.0)
        assert abs(spearmanr(points[inside, 2], uvd[inside, 1]).statistic) < 0.3


def test_label_boxes_project_onto_image_content(scene: Scene) -> None:
    camera = scene.cameras["front"]
    camera_T_lidar = _camera_T_lidar(scene, camera)
    ratios: list[float] = []
    for frame in scene.frames:
        with Image.open(frame.images["front"].url) as image:
            gray = np.asarray(image.convert("L"), dtype=np.float64)
        gy, gx = np.gradient(gray)
        gradient = np.hypot(gx, gy)
        seen = 0
        for _, cuboid in scene.shapes_in_frame("ground_truth", frame.index):
            corners = _project(cuboid.corners(), camera_T_lidar, camera)
            centre = _project(cuboid.center[None], camera_T_lidar, camera)
            if corners[:, 2].min() < 1.0 or not _inside(centre, camera)[0]:
                continue  # behind or cut by the image plane, or outside the field of view
            seen += 1
            x0, y0 = np.clip(np.floor(corners[:, :2].min(axis=0)).astype(int), 0, gray.shape[::-1])
            x1, y1 = np.clip(np.ceil(corners[:, :2].max(axis=0)).astype(int), 0, gray.shape[::-1])
            if x1 - x0 >= 4 and y1 - y0 >= 4:
                ratios.append(float(gradient[y0:y1, x0:x1].mean() / gradient.mean()))
        # The front images show about ten labelled road users each.
        assert seen >= 5, f"frame {frame.index}: only {seen} labelled boxes project into the front image"
    # Boxes sit on objects (edges, texture), not on flat sky or road: far more gradient than average.
    assert np.median(ratios) > 1.5
