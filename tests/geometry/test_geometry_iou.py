"""BEV and 3D IoU: analytic values, symmetry, bounds, degenerate boxes, prefilter completeness."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from labelpilot.geometry import (
    CuboidBatch,
    bev_iou,
    bev_iou_pairs,
    iou_3d,
    iou_3d_pairs,
    points_in_cuboids,
)
from tests.geometry.geometry_strategies import yaw_batches

ALL_IOUS = [bev_iou, iou_3d]


def _unit_boxes(centers: list[list[float]], yaws: list[float] | None = None) -> CuboidBatch:
    n = len(centers)
    return CuboidBatch.from_yaws(centers, np.ones((n, 3)), yaws if yaws is not None else [0.0] * n)


@pytest.mark.parametrize("iou", ALL_IOUS)
def test_unit_boxes_offset_by_half_have_iou_one_third(iou: object) -> None:
    # Overlap 0.5, union 1 + 1 - 0.5 = 1.5.
    assert callable(iou)
    for offset in ([0.5, 0, 0], [0, 0.5, 0], [-0.5, 0, 0]):
        assert iou(_unit_boxes([[0, 0, 0]]), _unit_boxes([offset]))[0, 0] == pytest.approx(1 / 3)


def test_vertical_offset_only_matters_in_3d() -> None:
    a = _unit_boxes([[0, 0, 0]])
    b = _unit_boxes([[0.5, 0, 0.5]])
    assert bev_iou(a, b)[0, 0] == pytest.approx(1 / 3)
    # Overlap 0.5 x 1 x 0.5 = 0.25, union 2 - 0.25 = 1.75.
    assert iou_3d(a, b)[0, 0] == pytest.approx(1 / 7)
    assert iou_3d(a, _unit_boxes([[0, 0, 1.01]]))[0, 0] == 0.0


def test_square_and_its_45_degree_turn() -> None:
    # The overlap is a regular octagon of area 2 (sqrt 2 - 1); the IoU works out to 1 / sqrt 2.
    a = _unit_boxes([[3, -2, 0]])
    b = _unit_boxes([[3, -2, 0]], [math.pi / 4])
    assert bev_iou(a, b)[0, 0] == pytest.approx(1 / math.sqrt(2))
    assert iou_3d_pairs(a, b)[0] == pytest.approx(1 / math.sqrt(2))


def test_nested_boxes_give_the_volume_ratio() -> None:
    outer = CuboidBatch.from_yaws([[1, 1, 1]], [[4, 2, 2]], [0.7])
    inner = CuboidBatch.from_yaws([[1, 1, 1]], [[2, 1, 1]], [0.7])
    assert bev_iou(outer, inner)[0, 0] == pytest.approx(0.25)
    assert iou_3d(outer, inner)[0, 0] == pytest.approx(0.125)


def test_turning_a_box_by_half_a_turn_changes_nothing() -> None:
    a = CuboidBatch.from_yaws([[5, 5, 0]], [[4.5, 1.8, 1.5]], [0.3])
    b = CuboidBatch.from_yaws([[5, 5, 0]], [[4.5, 1.8, 1.5]], [0.3 + math.pi])
    assert bev_iou(a, b)[0, 0] == pytest.approx(1.0)


def test_pitch_and_roll_are_ignored() -> None:
    yaw_only = CuboidBatch.from_yaws([[0, 0, 0]], [[4, 2, 1.5]], [0.4])
    # Intrinsic yaw, pitch, roll: the x axis still heads at 0.4 rad.
    tilted_quat = Rotation.from_euler("ZYX", [0.4, 0.1, -0.05]).as_quat()
    tilted = CuboidBatch(np.array([[0.0, 0.0, 0.0]]), np.array([[4.0, 2.0, 1.5]]), tilted_quat[None])
    other = CuboidBatch.from_yaws([[1, 0.5, 0.2]], [[4, 2, 1.5]], [-0.2])
    assert bev_iou(tilted, other)[0, 0] == pytest.approx(bev_iou(yaw_only, other)[0, 0])
    assert iou_3d(tilted, other)[0, 0] == pytest.approx(iou_3d(yaw_only, other)[0, 0])


@settings(max_examples=80, deadline=None)
@given(yaw_batches(), yaw_batches())
def test_symmetric_bounded_and_finite(a: CuboidBatch, b: CuboidBatch) -> None:
    for iou in ALL_IOUS:
        ab = iou(a, b)
        assert ab.shape == (len(a), len(b))
        assert np.all(np.isfinite(ab))
        assert np.all((ab >= 0.0) & (ab <= 1.0))
        np.testing.assert_allclose(ab, iou(b, a).T, atol=1e-12)
    # A box never overlaps in 3D more than it does seen from above.
    assert np.all(iou_3d(a, b) <= bev_iou(a, b) + 1e-12)


@settings(max_examples=60, deadline=None)
@given(yaw_batches())
def test_identical_boxes_have_iou_one(a: CuboidBatch) -> None:
    np.testing.assert_allclose(np.diag(bev_iou(a, a)), 1.0, atol=1e-9)
    np.testing.assert_allclose(np.diag(iou_3d(a, a)), 1.0, atol=1e-9)
    np.testing.assert_allclose(bev_iou_pairs(a, a), 1.0, atol=1e-9)
    np.testing.assert_allclose(iou_3d_pairs(a, a), 1.0, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(yaw_batches(), st.floats(0.0, 2 * math.pi))
def test_far_apart_boxes_have_iou_zero(a: CuboidBatch, direction: float) -> None:
    # Further than the two largest half-diagonals together, in any direction.
    reach = 2 * np.linalg.norm(a.sizes, axis=1).max()
    shift = np.array([math.cos(direction), math.sin(direction), 0.0]) * (
        reach + np.ptp(a.centers, axis=0).max() + 1
    )
    b = CuboidBatch(a.centers + shift, a.sizes, a.quats_xyzw)
    assert not np.any(bev_iou(a, b))
    assert not np.any(iou_3d(a, b))
    assert not np.any(bev_iou_pairs(a, b))


@settings(max_examples=60, deadline=None)
@given(yaw_batches(max_size=12), yaw_batches(max_size=12))
def test_matrix_agrees_with_pairs_so_the_prefilter_loses_nothing(a: CuboidBatch, b: CuboidBatch) -> None:
    ia, ib = np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij")
    every_a = CuboidBatch(a.centers[ia.ravel()], a.sizes[ia.ravel()], a.quats_xyzw[ia.ravel()])
    every_b = CuboidBatch(b.centers[ib.ravel()], b.sizes[ib.ravel()], b.quats_xyzw[ib.ravel()])
    np.testing.assert_allclose(bev_iou(a, b).ravel(), bev_iou_pairs(every_a, every_b), atol=1e-12)
    np.testing.assert_allclose(iou_3d(a, b).ravel(), iou_3d_pairs(every_a, every_b), atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(yaw_batches(min_size=2, max_size=2), st.floats(-1.0, 1.0))
def test_3d_iou_of_boxes_with_the_same_vertical_extent_is_the_bev_iou(pair: CuboidBatch, z: float) -> None:
    sizes = pair.sizes.copy()
    sizes[1, 2] = sizes[0, 2]
    centers = pair.centers.copy()
    centers[:, 2] = z
    same_height = CuboidBatch(centers, sizes, pair.quats_xyzw)
    a, b = CuboidBatch.from_cuboids([same_height[0]]), CuboidBatch.from_cuboids([same_height[1]])
    assert iou_3d(a, b)[0, 0] == pytest.approx(bev_iou(a, b)[0, 0], abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(yaw_batches(min_size=2, max_size=2, spread=2.0))
def test_bev_iou_matches_counting_grid_cells(pair: CuboidBatch) -> None:
    """An independent estimate: sample the plane on a fine grid and count cells inside each footprint."""
    # At least 1 m across, so that even the narrower box spans dozens of grid cells.
    sizes = np.maximum(pair.sizes, 1.0)
    pair = CuboidBatch(pair.centers, sizes, pair.quats_xyzw)
    flat = CuboidBatch(pair.centers * [1, 1, 0], sizes * [1, 1, 0] + [0, 0, 1], pair.quats_xyzw)
    corners = flat.corners().reshape(-1, 3)
    lo, hi = corners[:, :2].min(axis=0), corners[:, :2].max(axis=0)
    step = max(hi - lo) / 600
    xs, ys = np.arange(lo[0], hi[0], step), np.arange(lo[1], hi[1], step)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel(), np.zeros(gx.size)], axis=1)
    inside = points_in_cuboids(grid, flat)
    both, either = np.count_nonzero(inside[0] & inside[1]), np.count_nonzero(inside[0] | inside[1])
    estimate = both / either
    exact = bev_iou(CuboidBatch.from_cuboids([pair[0]]), CuboidBatch.from_cuboids([pair[1]]))[0, 0]
    # Cells cut by an edge make the estimate wobble by about perimeter x step / union area.
    assert exact == pytest.approx(estimate, abs=0.02)


@pytest.mark.parametrize(
    "size",
    [[0.0, 0.0, 0.0], [0.0, 2.0, 1.5], [4.0, 0.0, 1.5], [4.0, 2.0, 0.0]],
)
def test_zero_size_boxes_give_zero_never_nan(size: list[float]) -> None:
    flat = CuboidBatch.from_yaws([[0, 0, 0], [0, 0, 0]], [size, size], [0.0, 0.5])
    normal = CuboidBatch.from_yaws([[0, 0, 0], [0.5, 0, 0]], [[4, 2, 1.5]] * 2, [0.0, 0.5])
    has_footprint = size[0] > 0 and size[1] > 0
    for iou in (iou_3d, bev_iou):
        for result in (iou(flat, normal), iou(normal, flat), iou(flat, flat)):
            assert np.all(np.isfinite(result))
            if iou is iou_3d or not has_footprint:
                assert not np.any(result)
    for pairs in (iou_3d_pairs, bev_iou_pairs):
        assert np.all(np.isfinite(pairs(flat, normal)))
        assert np.all(np.isfinite(pairs(flat, flat)))
    # A box with a footprint but no height still overlaps in bird's-eye view.
    if has_footprint:
        assert bev_iou(flat, normal)[0, 0] > 0.0


def test_empty_batches_and_length_mismatch() -> None:
    none = CuboidBatch.from_cuboids([])
    two = _unit_boxes([[0, 0, 0], [1, 0, 0]])
    assert bev_iou(none, two).shape == (0, 2)
    assert iou_3d(two, none).shape == (2, 0)
    assert bev_iou_pairs(none, none).shape == (0,)
    with pytest.raises(ValueError, match="equal length"):
        bev_iou_pairs(two, _unit_boxes([[0, 0, 0]]))
    with pytest.raises(ValueError, match="equal length"):
        iou_3d_pairs(two, none)
