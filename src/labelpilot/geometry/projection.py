"""Pinhole projection of points and cuboids into a camera image.

Everything here is in the camera frame with the OpenCV convention (x right, y down, z forward):
callers move points and cuboids into that frame first (``camera_T_ego``). A point is in front of
the camera when its depth z is at least ``min_depth``; cuboid edges that cross that near plane
are cut there in 3D before projecting, so a box half behind the camera still draws correctly
instead of wrapping through infinity.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelpilot.geometry.cuboids import EDGES, Cuboid

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_EDGE_START = np.array([e[0] for e in EDGES], dtype=np.intp)
_EDGE_END = np.array([e[1] for e in EDGES], dtype=np.intp)


def _as_intrinsics(K: ArrayLike) -> FloatArray:
    k = np.asarray(K, dtype=np.float64)
    if k.shape != (3, 3):
        raise ValueError(f"the camera matrix K must be 3 x 3, got shape {k.shape}")
    # Depth tests use z directly, which is only the projective depth when the last row is 0 0 1.
    if not np.allclose(k[2], [0.0, 0.0, 1.0]):
        raise ValueError(f"the last row of the camera matrix K must be 0 0 1, got {k[2].tolist()}")
    return k


def _check_min_depth(min_depth: float) -> float:
    if not min_depth > 0.0:
        raise ValueError(f"min_depth must be positive (the image plane is undefined at z=0), got {min_depth}")
    return float(min_depth)


def _pinhole(points_cam: FloatArray, K: FloatArray) -> FloatArray:
    """Project points that are known to have z > 0."""
    homogeneous = points_cam @ K.T
    uv: FloatArray = homogeneous[:, :2] / homogeneous[:, 2:3]
    return uv


def project_points(
    points_cam: ArrayLike, K: ArrayLike, min_depth: float = 0.1
) -> tuple[FloatArray, BoolArray]:
    """Pixel coordinates (N, 2) of camera-frame points (N, 3) and which are in front.

    Points closer than ``min_depth`` (or behind the camera, or not finite) get NaN coordinates:
    their projection is meaningless and a NaN cannot be drawn or counted by accident.
    """
    p = np.asarray(points_cam, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3:
        raise ValueError(f"points must be N x 3, got shape {p.shape}")
    k = _as_intrinsics(K)
    depth = _check_min_depth(min_depth)
    in_front: BoolArray = (p[:, 2] >= depth) & np.all(np.isfinite(p), axis=1)
    uv = np.full((len(p), 2), np.nan)
    uv[in_front] = _pinhole(p[in_front], k)
    return uv, in_front


def _move_to_near_plane(moving: FloatArray, fixed: FloatArray, min_depth: float) -> FloatArray:
    """Slide each point of ``moving`` (behind the plane) along its segment to ``fixed`` (in front)."""
    # fixed is in front and moving behind, so the divisor is positive.
    t = (min_depth - moving[:, 2]) / (fixed[:, 2] - moving[:, 2])
    cut: FloatArray = moving + t[:, None] * (fixed - moving)
    # Rounding in the line above can leave z a hair short of the plane; put it on the plane.
    cut[:, 2] = min_depth
    return cut


def _clip_edges_to_near_plane(
    starts: FloatArray, ends: FloatArray, min_depth: float
) -> tuple[FloatArray, FloatArray]:
    """Cut 3D segments at z = min_depth, keeping only the segments with a part in front."""
    start_in_front = starts[:, 2] >= min_depth
    end_in_front = ends[:, 2] >= min_depth
    keep = start_in_front | end_in_front
    starts = starts[keep].copy()
    ends = ends[keep].copy()
    start_behind = ~start_in_front[keep]
    end_behind = ~end_in_front[keep]
    starts[start_behind] = _move_to_near_plane(starts[start_behind], ends[start_behind], min_depth)
    ends[end_behind] = _move_to_near_plane(ends[end_behind], starts[end_behind], min_depth)
    return starts, ends


def project_cuboid_edges(
    cuboid_cam: Cuboid, K: ArrayLike, min_depth: float = 0.1
) -> list[tuple[FloatArray, FloatArray]]:
    """The cuboid's 12 edges (in EDGES order, fully-behind ones dropped) as pixel segments.

    Each edge is cut at the near plane z = min_depth before projecting.
    """
    k = _as_intrinsics(K)
    depth = _check_min_depth(min_depth)
    corners = cuboid_cam.corners()
    starts, ends = _clip_edges_to_near_plane(corners[_EDGE_START], corners[_EDGE_END], depth)
    uv_starts = _pinhole(starts, k)
    uv_ends = _pinhole(ends, k)
    return [(uv_starts[i], uv_ends[i]) for i in range(len(uv_starts))]


def project_cuboid_bbox(
    cuboid_cam: Cuboid,
    K: ArrayLike,
    min_depth: float = 0.1,
    image_size: tuple[int, int] | None = None,
) -> tuple[float, float, float, float] | None:
    """2D box (x1, y1, x2, y2) around the projected, near-plane-clipped cuboid.

    With ``image_size = (width, height)`` the box is clipped to the image, whose pixel centres
    run from 0 to width - 1 and 0 to height - 1 (the KITTI 2D-box convention); a cuboid that
    projects entirely outside the image gives None. A cuboid wholly behind the near plane
    gives None too.
    """
    edges = project_cuboid_edges(cuboid_cam, K, min_depth)
    if not edges:
        return None
    endpoints = np.array([uv for edge in edges for uv in edge])
    x1, y1 = endpoints.min(axis=0)
    x2, y2 = endpoints.max(axis=0)
    if image_size is not None:
        width, height = image_size
        if width <= 0 or height <= 0:
            raise ValueError(f"image_size must be positive (width, height), got {image_size}")
        x_max, y_max = float(width - 1), float(height - 1)
        # A box that only touches the border along a line shows nothing of the object.
        if x2 <= 0.0 or y2 <= 0.0 or x1 >= x_max or y1 >= y_max:
            return None
        x1, x2 = np.clip([x1, x2], 0.0, x_max)
        y1, y2 = np.clip([y1, y2], 0.0, y_max)
    return float(x1), float(y1), float(x2), float(y2)
