"""Rigid transforms in 3D (SE(3)).

A pose ``a_T_b`` maps points expressed in frame b into frame a. Quaternions are x, y, z, w
(scipy and OpenLABEL order).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.transform import Rotation

FloatArray = NDArray[np.float64]


_LAST_ROW = np.array([0.0, 0.0, 0.0, 1.0])


def _as_matrix(matrix: ArrayLike) -> FloatArray:
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (4, 4):
        raise ValueError(f"a pose needs a 4x4 matrix, got shape {m.shape}")
    # Plain reductions rather than np.allclose: poses are built by the hundred thousand when tracks
    # are loaded, and allclose costs ten times as much for the same check.
    if not np.isfinite(m).all():
        raise ValueError("a pose matrix must be finite (found NaN or inf)")
    if np.abs(m[3] - _LAST_ROW).max() > 1e-8:
        raise ValueError(f"the last row of a pose must be 0 0 0 1, got {m[3].tolist()}")
    return m


@dataclass(frozen=True, eq=False)
class Pose:
    """An SE(3) transform stored as a 4x4 float64 matrix."""

    matrix: FloatArray

    def __post_init__(self) -> None:
        m = _as_matrix(self.matrix)
        m.setflags(write=False)
        object.__setattr__(self, "matrix", m)

    # --- construction -------------------------------------------------------------
    @classmethod
    def identity(cls) -> Pose:
        return cls(np.eye(4))

    @classmethod
    def from_rotation_translation(cls, rotation: Rotation | ArrayLike, translation: ArrayLike) -> Pose:
        m = np.eye(4)
        m[:3, :3] = rotation.as_matrix() if isinstance(rotation, Rotation) else np.asarray(rotation)
        m[:3, 3] = np.asarray(translation, dtype=np.float64).reshape(3)
        return cls(m)

    @classmethod
    def from_quat_xyzw(cls, quat_xyzw: ArrayLike, translation: ArrayLike) -> Pose:
        return cls.from_rotation_translation(Rotation.from_quat(np.asarray(quat_xyzw)), translation)

    @classmethod
    def from_yaw(cls, yaw: float, translation: ArrayLike) -> Pose:
        return cls.from_rotation_translation(Rotation.from_euler("z", yaw), translation)

    @classmethod
    def from_3x4(cls, values: ArrayLike) -> Pose:
        """From 12 numbers, a 3x4 row-major matrix (KITTI calibration and pose files)."""
        v = np.asarray(values, dtype=np.float64).reshape(-1)
        if v.size != 12:
            raise ValueError(f"a 3x4 pose needs 12 numbers, got {v.size}")
        return cls(np.vstack([v.reshape(3, 4), [0.0, 0.0, 0.0, 1.0]]))

    @classmethod
    def from_kitti_line(cls, line: str) -> Pose:
        """Parse one KITTI odometry pose line (12 numbers, 3x4 row-major)."""
        parts = line.split()
        if len(parts) != 12:
            raise ValueError(f"a KITTI pose line needs 12 numbers, got {len(parts)}")
        return cls.from_3x4([float(p) for p in parts])

    # --- views --------------------------------------------------------------------
    @property
    def rotation_matrix(self) -> FloatArray:
        return self.matrix[:3, :3]

    @property
    def rotation(self) -> Rotation:
        return Rotation.from_matrix(self.matrix[:3, :3])

    @property
    def translation(self) -> FloatArray:
        return self.matrix[:3, 3]

    @property
    def quat_xyzw(self) -> FloatArray:
        return np.asarray(self.rotation.as_quat(), dtype=np.float64)

    @property
    def yaw(self) -> float:
        """Heading of the x axis in the xy plane of the parent frame."""
        return float(np.arctan2(self.matrix[1, 0], self.matrix[0, 0]))

    def to_3x4(self) -> FloatArray:
        return self.matrix[:3, :].copy()

    def to_kitti_line(self) -> str:
        return " ".join(f"{v:.9e}" for v in self.matrix[:3, :].reshape(-1))

    # --- algebra ------------------------------------------------------------------
    def compose(self, other: Pose) -> Pose:
        """self @ other: apply other first, then self (a_T_b @ b_T_c = a_T_c)."""
        return Pose(self.matrix @ other.matrix)

    def __matmul__(self, other: Pose) -> Pose:
        return self.compose(other)

    def inverse(self) -> Pose:
        r = self.matrix[:3, :3]
        m = np.eye(4)
        m[:3, :3] = r.T
        m[:3, 3] = -r.T @ self.matrix[:3, 3]
        return Pose(m)

    def apply(self, points: ArrayLike) -> FloatArray:
        """Transform N x 3 points (or one 3-vector); extra columns are not allowed."""
        p = np.asarray(points, dtype=np.float64)
        single = p.ndim == 1
        p2 = p.reshape(1, 3) if single else p
        if p2.ndim != 2 or p2.shape[1] != 3:
            raise ValueError(f"points must be N x 3, got shape {p.shape}")
        out = p2 @ self.matrix[:3, :3].T + self.matrix[:3, 3]
        return out.reshape(3) if single else out

    def allclose(self, other: Pose, atol: float = 1e-9) -> bool:
        return bool(np.allclose(self.matrix, other.matrix, atol=atol))

    def __repr__(self) -> str:
        t = ", ".join(f"{v:.3f}" for v in self.translation)
        return f"Pose(t=({t}), yaw={self.yaw:.4f})"
