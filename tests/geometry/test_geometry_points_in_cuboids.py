"""Points in cuboids: a brute-force reference, the boundary, margins, tilted boxes, real Argoverse 2 counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.feather as feather
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from labelpilot.geometry import (
    Cuboid,
    CuboidBatch,
    count_points_in_cuboids,
    points_in_cuboid,
    points_in_cuboids,
)
from tests.geometry.geometry_strategies import tilted_batches

AV2_LOG = Path("argoverse2") / "logs" / "7fab2350-7eaf-3b7e-a39d-6937a4c1bede"


def _brute_force_local(points: np.ndarray, boxes: CuboidBatch) -> np.ndarray:
    """(M, N, 3) box-frame coordinates, one point and one box at a time through scipy's inverse rotation."""
    local = np.zeros((len(boxes), len(points), 3))
    for m in range(len(boxes)):
        to_box = Rotation.from_quat(boxes.quats_xyzw[m]).inv()
        for n in range(len(points)):
            local[m, n] = to_box.apply(points[n] - boxes.centers[m])
    return local


def _points_near(boxes: CuboidBatch, seed: int, n: int) -> np.ndarray:
    """Random points, most of them around the boxes so that both answers are common."""
    rng = np.random.default_rng(seed)
    owners = rng.integers(0, len(boxes), n)
    spread = boxes.sizes[owners] * 0.8 + 0.05
    return boxes.centers[owners] + rng.uniform(-1.0, 1.0, (n, 3)) * spread


@settings(max_examples=60, deadline=None)
@given(tilted_batches(), st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.2, -0.3]))
def test_all_paths_equal_a_brute_force_loop(boxes: CuboidBatch, seed: int, margin: float) -> None:
    points = _points_near(boxes, seed, 150)
    half = boxes.sizes / 2.0 + margin
    local = _brute_force_local(points, boxes)
    expected = np.all(np.abs(local) <= half[:, None, :], axis=2)
    # Points within rounding distance of a face may fall either way; the exact boundary has its own test.
    clear = np.all(np.abs(np.abs(local) - half[:, None, :]) > 1e-9, axis=2)

    single = np.stack([points_in_cuboid(points, boxes[m], margin) for m in range(len(boxes))])
    dense = points_in_cuboids(points, boxes, margin, prefilter=False)
    kdtree = points_in_cuboids(points, boxes, margin, prefilter=True)
    automatic = points_in_cuboids(points, boxes, margin)
    np.testing.assert_array_equal(single[clear], expected[clear])
    np.testing.assert_array_equal(dense, single)
    np.testing.assert_array_equal(kdtree, single)
    np.testing.assert_array_equal(automatic, single)
    for prefilter in (False, True):
        counts = count_points_in_cuboids(points, boxes, margin, prefilter=prefilter)
        np.testing.assert_array_equal(counts, single.sum(axis=1))
        assert counts.dtype == np.int64


@pytest.mark.parametrize("prefilter", [False, True])
def test_boundary_is_inclusive_exactly(prefilter: bool) -> None:
    # Axis-aligned with exactly representable numbers, so there is no rounding to blur the faces.
    boxes = CuboidBatch(
        np.array([[1.0, 2.0, 3.0]] * 2), np.array([[2.0, 4.0, 6.0]] * 2), np.array([[0, 0, 0, 1.0]] * 2)
    )
    on_boundary = np.array(
        [[0.0, 0.0, 0.0], [2.0, 4.0, 6.0], [2.0, 2.0, 3.0], [1.0, 0.0, 3.0], [1.0, 2.0, 6.0]]
    )
    # One step past each face, chosen so that subtracting the centre is still exact.
    just_outside = np.array(
        [
            [-np.spacing(1.0), 2.0, 3.0],
            [1.0, np.nextafter(4.0, 5.0), 3.0],
            [2.0, 4.0, np.nextafter(6.0, 7.0)],
        ]
    )
    points = np.vstack([on_boundary, just_outside])
    mask = points_in_cuboids(points, boxes, prefilter=prefilter)
    np.testing.assert_array_equal(mask[0], [True] * len(on_boundary) + [False] * len(just_outside))
    np.testing.assert_array_equal(points_in_cuboid(points, boxes[0]), mask[0])
    # A margin of 0.5 takes in points half a metre beyond each face, and not one ulp further.
    grown = np.array(
        [[-0.5, 2.0, 3.0], [1.0, 4.5, 3.0], [2.5, -0.5, 6.5], [-0.5 - np.spacing(1.5), 2.0, 3.0]]
    )
    np.testing.assert_array_equal(points_in_cuboids(grown, boxes, 0.5, prefilter=prefilter)[1], [1, 1, 1, 0])


@settings(max_examples=40, deadline=None)
@given(tilted_batches(), st.integers(0, 2**32 - 1), st.floats(-1.0, 1.0), st.floats(0.0, 1.0))
def test_a_larger_margin_only_adds_points(boxes: CuboidBatch, seed: int, m: float, extra: float) -> None:
    points = _points_near(boxes, seed, 200)
    small = points_in_cuboids(points, boxes, m)
    large = points_in_cuboids(points, boxes, m + extra)
    assert not np.any(small & ~large)


def test_full_quaternion_rotation_is_used() -> None:
    # A 10 m long thin box pitched by 90 degrees about y stands upright: its length runs along -z.
    upright = Cuboid([0.0, 0.0, 0.0], [10.0, 1.0, 1.0], Rotation.from_euler("y", 90, degrees=True).as_quat())
    points = np.array([[0.0, 0.0, 4.0], [0.0, 0.0, -4.0], [4.0, 0.0, 0.0], [0.4, 0.4, 4.9]])
    np.testing.assert_array_equal(points_in_cuboid(points, upright), [True, True, False, True])
    # Its yaw is that of a flat box, so an inside test that only used yaw would get this wrong.
    flat = Cuboid.from_yaw([0.0, 0.0, 0.0], [10.0, 1.0, 1.0], upright.yaw)
    assert points_in_cuboid(points, flat).tolist() != points_in_cuboid(points, upright).tolist()


def test_shrinking_past_the_centre_leaves_nothing() -> None:
    boxes = CuboidBatch.from_yaws([[0, 0, 0]], [[2.0, 2.0, 2.0]], [0.3])
    points = np.zeros((5, 3))
    assert count_points_in_cuboids(points, boxes, margin=-1.5, prefilter=True).tolist() == [0]
    assert count_points_in_cuboids(points, boxes, margin=-1.5, prefilter=False).tolist() == [0]
    assert count_points_in_cuboids(points, boxes, margin=-1.0).tolist() == [5]


@pytest.mark.parametrize("prefilter", [False, True])
def test_non_finite_points_are_inside_nothing(prefilter: bool) -> None:
    rng = np.random.default_rng(7)
    points = rng.uniform(-3.0, 3.0, (3000, 3))
    points[::7] = np.nan
    points[3::11, 1] = np.inf
    points[5::13, 2] = -np.inf
    finite = np.all(np.isfinite(points), axis=1)
    boxes = CuboidBatch.from_yaws(rng.uniform(-1, 1, (4, 3)), np.full((4, 3), 3.0), [0.0, 0.5, 1.0, 2.0])
    mask = points_in_cuboids(points, boxes, prefilter=prefilter)
    assert not mask[:, ~finite].any()
    np.testing.assert_array_equal(
        mask[:, finite], points_in_cuboids(points[finite], boxes, prefilter=prefilter)
    )
    assert mask.any()
    np.testing.assert_array_equal(
        count_points_in_cuboids(points, boxes, prefilter=prefilter), mask.sum(axis=1)
    )


def test_empty_inputs_give_empty_shapes() -> None:
    boxes = CuboidBatch.from_yaws([[0, 0, 0]], [[1, 1, 1]], [0.0])
    none = CuboidBatch.from_cuboids([])
    assert points_in_cuboids(np.zeros((0, 3)), boxes).shape == (1, 0)
    assert points_in_cuboids(np.ones((4, 3)), none).shape == (0, 4)
    assert count_points_in_cuboids(np.zeros((0, 3)), boxes).tolist() == [0]
    assert points_in_cuboid(np.zeros((0, 3)), boxes[0]).shape == (0,)


@pytest.mark.parametrize("shape", [(3,), (4, 2), (2, 4), (1, 2, 3)])
def test_points_of_the_wrong_shape_are_rejected(shape: tuple[int, ...]) -> None:
    boxes = CuboidBatch.from_yaws([[0, 0, 0]], [[1, 1, 1]], [0.0])
    with pytest.raises(ValueError, match="N x 3"):
        points_in_cuboids(np.zeros(shape), boxes)
    with pytest.raises(ValueError, match="N x 3"):
        points_in_cuboid(np.zeros(shape), boxes[0])


def _av2_sweeps(sample_dir: Path) -> list[Path]:
    sweeps = sorted((sample_dir / AV2_LOG / "sensors" / "lidar").glob("*.feather"))
    assert sweeps, "the bundled Argoverse 2 sample has lidar sweeps"
    return sweeps


@pytest.mark.parametrize("sweep_index", [0, 1])
def test_counts_match_argoverse2_num_interior_pts(sample_dir: Path, sweep_index: int) -> None:
    """Boxes and sweep are both in the ego frame at the sweep's timestamp (see SOURCE.txt)."""
    sweep_path = _av2_sweeps(sample_dir)[sweep_index]
    timestamp_ns = int(sweep_path.stem)
    sweep = feather.read_table(sweep_path, columns=["x", "y", "z"])
    # The sweep stores float16; every float16 is exact in float64, so nothing is lost here.
    points = np.stack([sweep.column(c).to_numpy() for c in ("x", "y", "z")], axis=1)
    assert points.dtype == np.float16

    annotations = feather.read_table(sample_dir / AV2_LOG / "annotations.feather")
    at_sweep = annotations.filter(pc.equal(annotations["timestamp_ns"], timestamp_ns))
    assert at_sweep.num_rows > 10

    def column(name: str) -> np.ndarray:
        return np.asarray(at_sweep.column(name).to_numpy(), dtype=np.float64)

    boxes = CuboidBatch(
        np.stack([column("tx_m"), column("ty_m"), column("tz_m")], axis=1),
        np.stack([column("length_m"), column("width_m"), column("height_m")], axis=1),
        # The file stores qw, qx, qy, qz; the project stores x, y, z, w.
        np.stack([column("qx"), column("qy"), column("qz"), column("qw")], axis=1),
    )
    expected = at_sweep.column("num_interior_pts").to_numpy()
    assert expected.sum() > 1000
    np.testing.assert_array_equal(count_points_in_cuboids(points, boxes), expected)
    np.testing.assert_array_equal(count_points_in_cuboids(points, boxes, prefilter=False), expected)
    np.testing.assert_array_equal(points_in_cuboids(points, boxes).sum(axis=1), expected)
