"""Hypothesis strategies shared by the geometry tests: poses, quaternions, cuboids, cameras."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelpilot.geometry import Cuboid, CuboidBatch, Pose

finite = st.floats(allow_nan=False, allow_infinity=False)


def bounded(limit: float) -> st.SearchStrategy[float]:
    return st.floats(-limit, limit, allow_nan=False, allow_infinity=False)


@st.composite
def quaternions(draw: st.DrawFn) -> np.ndarray:
    """Unit quaternions x, y, z, w, drawn away from the zero vector so normalising is exact enough."""
    q = draw(arrays(np.float64, 4, elements=bounded(1.0)).filter(lambda v: np.linalg.norm(v) > 0.1))
    return q / np.linalg.norm(q)


@st.composite
def translations(draw: st.DrawFn, limit: float = 1000.0) -> np.ndarray:
    return draw(arrays(np.float64, 3, elements=bounded(limit)))


@st.composite
def poses(draw: st.DrawFn) -> Pose:
    return Pose.from_quat_xyzw(draw(quaternions()), draw(translations()))


@st.composite
def point_sets(draw: st.DrawFn, max_points: int = 20, limit: float = 1000.0) -> np.ndarray:
    n = draw(st.integers(1, max_points))
    return draw(arrays(np.float64, (n, 3), elements=bounded(limit)))


yaws = st.floats(-4 * np.pi, 4 * np.pi, allow_nan=False, allow_infinity=False)
box_sizes = st.tuples(st.floats(0.1, 12.0), st.floats(0.1, 4.0), st.floats(0.1, 4.0))


@st.composite
def yaw_batches(draw: st.DrawFn, min_size: int = 1, max_size: int = 8, spread: float = 10.0) -> CuboidBatch:
    """Yaw-only boxes of vehicle-like sizes, close enough together that many overlap."""
    n = draw(st.integers(min_size, max_size))
    centers = draw(arrays(np.float64, (n, 3), elements=bounded(spread)))
    sizes = np.array([draw(box_sizes) for _ in range(n)])
    return CuboidBatch.from_yaws(centers, sizes, [draw(yaws) for _ in range(n)])


@st.composite
def tilted_batches(draw: st.DrawFn, max_size: int = 6, spread: float = 10.0) -> CuboidBatch:
    """Boxes with full 3D rotations (pitch and roll too) and sizes down to zero."""
    n = draw(st.integers(1, max_size))
    centers = draw(arrays(np.float64, (n, 3), elements=bounded(spread)))
    sizes = draw(arrays(np.float64, (n, 3), elements=st.floats(0.0, 8.0)))
    quats = np.stack([draw(quaternions()) for _ in range(n)])
    return CuboidBatch(centers, sizes, quats)


@st.composite
def cuboids(draw: st.DrawFn, spread: float = 10.0) -> Cuboid:
    return Cuboid(
        draw(translations(spread)),
        draw(arrays(np.float64, 3, elements=st.floats(0.0, 8.0))),
        draw(quaternions()),
    )


@st.composite
def intrinsics(draw: st.DrawFn) -> np.ndarray:
    """Pinhole camera matrices with realistic focal lengths and principal points."""
    fx = draw(st.floats(100.0, 3000.0))
    fy = draw(st.floats(100.0, 3000.0))
    cx = draw(st.floats(0.0, 2000.0))
    cy = draw(st.floats(0.0, 2000.0))
    return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
