"""Yaw arithmetic: normalisation to (-pi, pi] and shortest-arc differences."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def normalize_yaw(yaw: ArrayLike) -> FloatArray:
    """Map angles (radians) to (-pi, pi]; works on scalars and arrays."""
    wrapped = np.mod(np.asarray(yaw, dtype=np.float64) + np.pi, 2.0 * np.pi) - np.pi
    # mod maps +pi to -pi; the convention keeps +pi and excludes -pi.
    return np.where(wrapped <= -np.pi, wrapped + 2.0 * np.pi, wrapped)


def yaw_difference(a: ArrayLike, b: ArrayLike) -> FloatArray:
    """Signed shortest-arc difference a - b in (-pi, pi]."""
    return normalize_yaw(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))


def interpolate_yaw(a: ArrayLike, b: ArrayLike, t: ArrayLike) -> FloatArray:
    """Interpolate from yaw a to yaw b along the shortest arc, t in [0, 1]."""
    a_arr = np.asarray(a, dtype=np.float64)
    return normalize_yaw(a_arr + np.asarray(t, dtype=np.float64) * yaw_difference(b, a_arr))


def headings(rotation_matrices: ArrayLike) -> FloatArray:
    """Yaw of each rotation's x axis in the parent xy plane, in (-pi, pi]; input (N, 3, 3) or (N, 4, 4).

    For boxes that also pitch or roll this is the heading a bird's-eye view shows.
    """
    m = np.asarray(rotation_matrices, dtype=np.float64)
    return normalize_yaw(np.arctan2(m[..., 1, 0], m[..., 0, 0]))
