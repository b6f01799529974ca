"""Pinhole projection, near-plane clipping of cuboid edges, and 2D boxes against real KITTI labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image
from scipy.spatial.transform import Rotation

from labelpilot.geometry import EDGES, Cuboid, project_cuboid_bbox, project_cuboid_edges, project_points
from tests.geometry.geometry_strategies import bounded, cuboids, intrinsics, quaternions, translations

depths = st.floats(0.1, 1e4)


@given(intrinsics(), depths)
def test_a_point_straight_ahead_lands_on_the_principal_point(K: np.ndarray, z: float) -> None:
    uv, in_front = project_points(np.array([[0.0, 0.0, z]]), K)
    assert in_front.tolist() == [True]
    np.testing.assert_allclose(uv[0], [K[0, 2], K[1, 2]], rtol=0, atol=1e-9)


@given(intrinsics(), arrays(np.float64, (30, 3), elements=bounded(100.0)))
def test_back_projecting_recovers_the_points_in_front(K: np.ndarray, points: np.ndarray) -> None:
    uv, in_front = project_points(points, K, min_depth=0.5)
    np.testing.assert_array_equal(in_front, points[:, 2] >= 0.5)
    rays = np.linalg.solve(K, np.column_stack([uv, np.ones(len(uv))]).T).T
    front = in_front
    np.testing.assert_allclose(rays[front] * points[front, 2:3], points[front], atol=1e-6)
    # Points too close or behind get NaN rather than a mirrored pixel.
    assert np.all(np.isnan(uv[~front]))


def test_points_on_the_camera_plane_or_not_finite_do_not_warn() -> None:
    K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])
    points = np.array(
        [[1.0, 1.0, 0.0], [0.0, 0.0, -3.0], [np.inf, 0.0, 5.0], [0.0, 0.0, np.nan], [0.0, 0.0, 0.1]]
    )
    uv, in_front = project_points(points, K)
    assert in_front.tolist() == [False, False, False, False, True]
    assert np.isnan(uv[:4]).all()
    np.testing.assert_allclose(uv[4], [320.0, 240.0])


@pytest.mark.parametrize("bad_depth", [0.0, -1.0, float("nan")])
def test_min_depth_must_be_positive(bad_depth: float) -> None:
    with pytest.raises(ValueError, match="min_depth"):
        project_points(np.zeros((1, 3)), np.eye(3), min_depth=bad_depth)


def test_bad_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match="N x 3"):
        project_points(np.zeros((2, 2)), np.eye(3))
    with pytest.raises(ValueError, match="3 x 3"):
        project_points(np.zeros((2, 3)), np.eye(4))
    with pytest.raises(ValueError, match="0 0 1"):
        project_cuboid_edges(Cuboid.from_yaw([0, 0, 5], [1, 1, 1], 0.0), 2.0 * np.eye(3))


def _point_on_segment_projecting_to(
    uv: np.ndarray, start: np.ndarray, end: np.ndarray, K: np.ndarray
) -> np.ndarray:
    """The 3D point of segment start-end whose projection is uv (least squares on the viewing ray)."""
    ray = np.linalg.solve(K, [uv[0], uv[1], 1.0])
    ray /= np.linalg.norm(ray)
    # Find t with (start + t (end - start)) parallel to the ray: cross product zero.
    a = np.cross(end - start, ray)
    if np.linalg.norm(a) <= 1e-9 * np.linalg.norm(end - start):
        # The edge lies along the viewing ray and projects to one pixel: its nearer-the-front end
        # is a point that projects there, if any does.
        return start if start[2] >= end[2] else end
    t = float(np.dot(a, -np.cross(start, ray)) / np.dot(a, a))
    return start + np.clip(t, 0.0, 1.0) * (end - start)


@settings(max_examples=150, deadline=None)
@given(cuboids(spread=6.0), intrinsics(), st.floats(0.05, 2.0))
def test_clipped_edges_never_come_from_behind_the_camera(
    box: Cuboid, K: np.ndarray, min_depth: float
) -> None:
    corners = box.corners()
    surviving = [e for e in EDGES if max(corners[e[0], 2], corners[e[1], 2]) >= min_depth]
    edges = project_cuboid_edges(box, K, min_depth)
    assert len(edges) == len(surviving)
    for (i, j), (uv0, uv1) in zip(surviving, edges, strict=True):
        assert np.all(np.isfinite(uv0)) and np.all(np.isfinite(uv1))
        for uv in (uv0, uv1):
            # Each endpoint is the image of a point of the original edge that is in front of the near plane.
            source = _point_on_segment_projecting_to(uv, corners[i], corners[j], K)
            assert source[2] >= min_depth - 1e-9
            reprojected, in_front = project_points(source[None], K, min_depth=min_depth * (1 - 1e-9))
            assert in_front[0]
            np.testing.assert_allclose(reprojected[0], uv, atol=1e-6 * (1 + np.abs(uv).max()))


@settings(max_examples=80, deadline=None)
@given(quaternions(), translations(3.0), intrinsics())
def test_a_box_wholly_in_front_projects_its_corners(q: np.ndarray, offset: np.ndarray, K: np.ndarray) -> None:
    box = Cuboid(offset + np.array([0.0, 0.0, 20.0]), [4.0, 2.0, 1.5], q)
    uv, in_front = project_points(box.corners(), K)
    assert in_front.all()
    edges = project_cuboid_edges(box, K)
    assert len(edges) == 12
    for (i, j), (uv0, uv1) in zip(EDGES, edges, strict=True):
        np.testing.assert_allclose(uv0, uv[i], atol=1e-9)
        np.testing.assert_allclose(uv1, uv[j], atol=1e-9)
    bbox = project_cuboid_bbox(box, K)
    assert bbox == pytest.approx((*uv.min(axis=0), *uv.max(axis=0)))


def test_a_box_behind_the_camera_has_no_edges_and_no_bbox() -> None:
    K = np.array([[700.0, 0, 600], [0, 700.0, 180], [0, 0, 1]])
    behind = Cuboid.from_yaw([0.0, 0.0, -10.0], [4.0, 2.0, 1.5], 0.3)
    assert project_cuboid_edges(behind, K) == []
    assert project_cuboid_bbox(behind, K) is None
    # Straddling the near plane: only the edges with a part in front remain, cut at the plane.
    straddling = Cuboid([0.0, 0.0, 0.0], [2.0, 2.0, 2.0], [0.0, 0.0, 0.0, 1.0])
    edges = project_cuboid_edges(straddling, K, min_depth=0.5)
    # Corners at z = +1 are in front: the 4 edges of that face and the 4 edges running along z.
    assert len(edges) == 8


def test_bbox_is_clipped_to_the_image_and_none_outside_it() -> None:
    K = np.array([[700.0, 0, 600], [0, 700.0, 180], [0, 0, 1]])
    width, height = 1242, 375
    # Close and to the right: its projection runs off the right edge of the image.
    cut = Cuboid.from_yaw([6.0, 0.0, 8.0], [4.0, 2.0, 1.5], 0.0)
    raw = project_cuboid_bbox(cut, K)
    clipped = project_cuboid_bbox(cut, K, image_size=(width, height))
    assert raw is not None and clipped is not None
    assert raw[2] > width - 1
    assert clipped[2] == width - 1
    assert clipped[:2] == pytest.approx(raw[:2])
    # Far to the left of the field of view, in front of the camera but never in the image.
    outside = Cuboid.from_yaw([-80.0, 0.0, 10.0], [4.0, 2.0, 1.5], 0.0)
    assert project_cuboid_bbox(outside, K) is not None
    assert project_cuboid_bbox(outside, K, image_size=(width, height)) is None


def _kitti_label_boxes(sample_dir: Path, sequence: str) -> list[tuple[int, Cuboid, np.ndarray]]:
    """(truncation level, cuboid in the rectified camera-0 frame, labelled 2D box) per labelled object."""
    rows = []
    labels = sample_dir / "kitti-tracking" / "training" / "label_02" / f"{sequence}.txt"
    for line in labels.read_text().splitlines():
        f = line.split()
        if f[2] == "DontCare":
            continue
        x1, y1, x2, y2, height, width, length, x, y, z, rot_y = (float(v) for v in f[6:17])
        # KITTI: (x, y, z) is the bottom centre, y points down, the object heads along its x axis turned
        # by rot_y about the camera y axis; the box's up axis is camera -y.
        heading = [np.cos(rot_y), 0.0, -np.sin(rot_y)]
        left = [np.sin(rot_y), 0.0, np.cos(rot_y)]
        rotation = Rotation.from_matrix(np.column_stack([heading, left, [0.0, -1.0, 0.0]]))
        box = Cuboid([x, y - height / 2, z], [length, width, height], rotation.as_quat())
        rows.append((int(float(f[3])), box, np.array([x1, y1, x2, y2])))
    return rows


def _box_iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_projected_kitti_boxes_match_the_labelled_2d_boxes(sample_dir: Path) -> None:
    """KITTI's 2D boxes were drawn independently of its 3D boxes; the two agree closely on real data."""
    calib = (sample_dir / "kitti-tracking" / "training" / "calib" / "0001.txt").read_text().splitlines()
    p2_line = next(line for line in calib if line.startswith("P2:"))
    P2 = np.array(p2_line.split()[1:], dtype=float).reshape(3, 4)
    K = P2[:, :3]
    # P2 = K [I | t]: camera 2 sits at -t in the rectified camera-0 frame.
    cam2_offset = np.linalg.solve(K, P2[:, 3])
    frame = sample_dir / "kitti-tracking" / "training" / "image_02" / "0001" / "000010.png"
    with Image.open(frame) as image:
        image_size = image.size
    ious: dict[int, list[float]] = {0: [], 1: []}
    for truncation, box, labelled in _kitti_label_boxes(sample_dir, "0001"):
        if truncation not in ious:
            continue
        in_cam2 = Cuboid(box.center + cam2_offset, box.size, box.quat_xyzw)
        projected = project_cuboid_bbox(in_cam2, K, image_size=image_size)
        if projected is None:
            # A sliver at the image border in the label can fall just outside in the projection.
            ious[truncation].append(0.0)
            continue
        assert 0 <= projected[0] <= projected[2] <= image_size[0] - 1
        assert 0 <= projected[1] <= projected[3] <= image_size[1] - 1
        ious[truncation].append(_box_iou(np.array(projected), labelled))
    untruncated, truncated = np.array(ious[0]), np.array(ious[1])
    assert len(untruncated) > 1000 and len(truncated) > 100
    assert np.median(untruncated) > 0.95
    assert np.mean(untruncated > 0.8) > 0.95
    # Truncated objects only match when the projection is clipped to the image the way the labels are.
    assert np.median(truncated) > 0.95
