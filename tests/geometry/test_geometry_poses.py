"""Properties of SE(3) poses: group identities and lossless round trips through every encoding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from scipy.spatial.transform import Rotation

from labelpilot.geometry import Cuboid, Pose
from tests.geometry.geometry_strategies import point_sets, poses, quaternions, translations

# Translations reach 1 km, so float64 rounding in a product of poses is ~1e-13 * 1e3.
ATOL = 1e-8


@given(poses())
def test_inverse_composed_with_pose_is_identity(p: Pose) -> None:
    assert (p.inverse() @ p).allclose(Pose.identity(), atol=ATOL)
    assert (p @ p.inverse()).allclose(Pose.identity(), atol=ATOL)


@given(poses(), poses())
def test_inverse_of_product_is_reversed_product_of_inverses(a: Pose, b: Pose) -> None:
    assert (a @ b).inverse().allclose(b.inverse() @ a.inverse(), atol=ATOL)


@given(poses(), poses(), point_sets())
def test_applying_a_composition_equals_applying_in_turn(a: Pose, b: Pose, points: np.ndarray) -> None:
    np.testing.assert_allclose((a @ b).apply(points), a.apply(b.apply(points)), atol=1e-7)


@given(poses(), point_sets())
def test_inverse_undoes_apply(p: Pose, points: np.ndarray) -> None:
    np.testing.assert_allclose(p.inverse().apply(p.apply(points)), points, atol=1e-7)


@given(poses(), poses(), poses())
def test_composition_is_associative(a: Pose, b: Pose, c: Pose) -> None:
    assert ((a @ b) @ c).allclose(a @ (b @ c), atol=1e-6)


@given(quaternions(), translations())
def test_quaternion_round_trip(q: np.ndarray, t: np.ndarray) -> None:
    p = Pose.from_quat_xyzw(q, t)
    back = p.quat_xyzw
    # q and -q are the same rotation.
    assert min(np.abs(back - q).max(), np.abs(back + q).max()) < 1e-9
    np.testing.assert_array_equal(p.translation, t)


@given(poses())
def test_matrix_round_trips(p: Pose) -> None:
    assert Pose(p.matrix.copy()).allclose(p, atol=0.0)
    assert Pose.from_3x4(p.to_3x4()).allclose(p, atol=0.0)
    assert Pose.from_quat_xyzw(p.quat_xyzw, p.translation).allclose(p, atol=1e-9)


@given(poses())
def test_kitti_line_round_trip(p: Pose) -> None:
    line = p.to_kitti_line()
    assert len(line.split()) == 12
    back = Pose.from_kitti_line(line)
    # The line keeps 10 significant digits.
    np.testing.assert_allclose(back.matrix, p.matrix, rtol=1e-9, atol=1e-12)


def test_real_kitti_pose_lines_round_trip(sample_dir: Path) -> None:
    """Every ground-truth pose of KITTI odometry seq 00 (time + 12 numbers a line) survives a round trip."""
    path = sample_dir / "kitti-odometry-00" / "kitti_gt_poses_seq00_frames000-100_with_time.txt"
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    assert len(lines) > 50
    for fields in lines:
        numbers = np.array([float(v) for v in fields[1:]])
        p = Pose.from_kitti_line(" ".join(fields[1:]))
        np.testing.assert_array_equal(p.to_3x4().reshape(-1), numbers)
        # The file's rotations are orthonormal to the 7 digits it prints.
        np.testing.assert_allclose(p.rotation_matrix @ p.rotation_matrix.T, np.eye(3), atol=1e-5)
        back = Pose.from_kitti_line(p.to_kitti_line())
        np.testing.assert_allclose(back.matrix, p.matrix, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize(
    "bad",
    ["", "1 2 3", " ".join(["1"] * 13), " ".join(["1"] * 11 + ["x"])],
)
def test_malformed_kitti_line_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        Pose.from_kitti_line(bad)


@given(quaternions(), translations(10.0), poses())
def test_cuboid_transform_matches_transforming_its_corners(q: np.ndarray, t: np.ndarray, a_T_b: Pose) -> None:
    box = Cuboid(t, [4.0, 2.0, 1.5], q)
    moved = box.transformed(a_T_b)
    np.testing.assert_allclose(moved.corners(), a_T_b.apply(box.corners()), atol=1e-7)


@given(quaternions())
def test_pose_yaw_matches_scipy_heading(q: np.ndarray) -> None:
    p = Pose.from_quat_xyzw(q, [0.0, 0.0, 0.0])
    x_axis = Rotation.from_quat(q).apply([1.0, 0.0, 0.0])
    if np.hypot(x_axis[0], x_axis[1]) > 1e-6:  # heading is undefined for a vertical x axis
        assert np.isclose(np.cos(p.yaw), x_axis[0] / np.hypot(x_axis[0], x_axis[1]), atol=1e-6)
        assert np.isclose(np.sin(p.yaw), x_axis[1] / np.hypot(x_axis[0], x_axis[1]), atol=1e-6)
