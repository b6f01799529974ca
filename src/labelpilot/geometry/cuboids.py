"""Cuboids: one box, or many as a batch of arrays.

A cuboid is a centre (x, y, z), a size (length along its x, width along y, height along z)
and a rotation. Most datasets only rotate about z (yaw); the rotation is kept as a full
quaternion (x, y, z, w) so that moving a box between tilted frames is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.transform import Rotation

from labelpilot.geometry.poses import Pose
from labelpilot.geometry.yaw import headings, normalize_yaw

FloatArray = NDArray[np.float64]

UNIT_CORNERS: FloatArray = np.array(
    [
        [0.5, 0.5, 0.5],
        [0.5, -0.5, 0.5],
        [-0.5, -0.5, 0.5],
        [-0.5, 0.5, 0.5],
        [0.5, 0.5, -0.5],
        [0.5, -0.5, -0.5],
        [-0.5, -0.5, -0.5],
        [-0.5, 0.5, -0.5],
    ]
)
"""Corners of a unit cube: 0-3 the top face, 4-7 the bottom face, 0/1/4/5 at the front."""

EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 0),
    (4, 5), (5, 6), (6, 7), (7, 4),
    (0, 4), (1, 5), (2, 6), (3, 7),
)  # fmt: skip
"""The 12 edges of a cuboid as pairs of corner indices."""


def _vec3(v: ArrayLike, name: str) -> FloatArray:
    a = np.asarray(v, dtype=np.float64).reshape(-1)
    if a.size != 3:
        raise ValueError(f"{name} needs 3 numbers, got {a.size}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite, got {a.tolist()}")
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Cuboid:
    center: FloatArray
    size: FloatArray
    quat_xyzw: FloatArray

    def __post_init__(self) -> None:
        object.__setattr__(self, "center", _vec3(self.center, "cuboid center"))
        size = _vec3(self.size, "cuboid size")
        if np.any(size < 0):
            raise ValueError(f"cuboid size must not be negative, got {size.tolist()}")
        object.__setattr__(self, "size", size)
        q = np.asarray(self.quat_xyzw, dtype=np.float64).reshape(-1)
        if q.size != 4 or not np.all(np.isfinite(q)) or np.linalg.norm(q) < 1e-12:
            raise ValueError(f"cuboid rotation needs a finite non-zero quaternion x,y,z,w, got {q.tolist()}")
        q = q / np.linalg.norm(q)
        q.setflags(write=False)
        object.__setattr__(self, "quat_xyzw", q)

    @classmethod
    def from_yaw(cls, center: ArrayLike, size: ArrayLike, yaw: float) -> Cuboid:
        return cls(np.asarray(center), np.asarray(size), Rotation.from_euler("z", yaw).as_quat())

    @classmethod
    def from_pose(cls, pose: Pose, size: ArrayLike) -> Cuboid:
        return cls(pose.translation.copy(), np.asarray(size), pose.quat_xyzw)

    @property
    def rotation(self) -> Rotation:
        return Rotation.from_quat(self.quat_xyzw)

    @property
    def pose(self) -> Pose:
        """parent_T_box: maps box-frame points to the frame the cuboid is expressed in."""
        return Pose.from_quat_xyzw(self.quat_xyzw, self.center)

    @property
    def yaw(self) -> float:
        """Heading of the box's x axis in the parent xy plane, in (-pi, pi]."""
        x_axis = self.rotation.apply([1.0, 0.0, 0.0])
        return float(normalize_yaw(np.arctan2(x_axis[1], x_axis[0])))

    def transformed(self, a_T_b: Pose) -> Cuboid:
        """This cuboid (expressed in frame b) expressed in frame a."""
        return Cuboid.from_pose(a_T_b @ self.pose, self.size)

    def corners(self) -> FloatArray:
        """8 x 3 corners in the parent frame, in the order of UNIT_CORNERS."""
        return self.rotation.apply(UNIT_CORNERS * self.size) + self.center

    def allclose(self, other: Cuboid, atol: float = 1e-6) -> bool:
        same_rot = abs(abs(float(np.dot(self.quat_xyzw, other.quat_xyzw))) - 1.0) < atol
        return bool(
            np.allclose(self.center, other.center, atol=atol)
            and np.allclose(self.size, other.size, atol=atol)
            and same_rot
        )

    def __repr__(self) -> str:
        c = ", ".join(f"{v:.3f}" for v in self.center)
        s = ", ".join(f"{v:.3f}" for v in self.size)
        return f"Cuboid(center=({c}), size=({s}), yaw={self.yaw:.4f})"


@dataclass(frozen=True, eq=False)
class CuboidBatch:
    """N cuboids as arrays: centers (N, 3), sizes (N, 3), quats_xyzw (N, 4)."""

    centers: FloatArray
    sizes: FloatArray
    quats_xyzw: FloatArray

    def __post_init__(self) -> None:
        c = np.asarray(self.centers, dtype=np.float64).reshape(-1, 3)
        s = np.asarray(self.sizes, dtype=np.float64).reshape(-1, 3)
        q = np.asarray(self.quats_xyzw, dtype=np.float64).reshape(-1, 4)
        if not (len(c) == len(s) == len(q)):
            raise ValueError(f"batch arrays disagree in length: {len(c)}, {len(s)}, {len(q)}")
        norms = np.linalg.norm(q, axis=1, keepdims=True)
        if len(q) and np.any(norms < 1e-12):
            raise ValueError("batch quaternions must be non-zero")
        q = q / np.where(norms > 0, norms, 1.0)
        for name, arr in (("centers", c), ("sizes", s), ("quats_xyzw", q)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @classmethod
    def from_yaws(cls, centers: ArrayLike, sizes: ArrayLike, yaws: ArrayLike) -> CuboidBatch:
        y = np.asarray(yaws, dtype=np.float64).reshape(-1)
        quats = np.zeros((len(y), 4))
        quats[:, 2] = np.sin(y / 2.0)
        quats[:, 3] = np.cos(y / 2.0)
        return cls(np.asarray(centers), np.asarray(sizes), quats)

    @classmethod
    def from_cuboids(cls, cuboids: Sequence[Cuboid]) -> CuboidBatch:
        if not cuboids:
            return cls(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 4)))
        return cls(
            np.stack([c.center for c in cuboids]),
            np.stack([c.size for c in cuboids]),
            np.stack([c.quat_xyzw for c in cuboids]),
        )

    def __len__(self) -> int:
        return len(self.centers)

    def __getitem__(self, i: int) -> Cuboid:
        return Cuboid(self.centers[i].copy(), self.sizes[i].copy(), self.quats_xyzw[i].copy())

    def to_cuboids(self) -> list[Cuboid]:
        return [self[i] for i in range(len(self))]

    @property
    def yaws(self) -> FloatArray:
        if len(self) == 0:
            return np.zeros(0)
        return headings(self.rotation_matrices())

    def rotation_matrices(self) -> FloatArray:
        """N x 3 x 3 box-to-parent rotations."""
        if len(self) == 0:
            return np.zeros((0, 3, 3))
        return np.asarray(Rotation.from_quat(self.quats_xyzw).as_matrix(), dtype=np.float64)

    def corners(self) -> FloatArray:
        """N x 8 x 3 corners, in the order of UNIT_CORNERS."""
        local = UNIT_CORNERS[None, :, :] * self.sizes[:, None, :]
        rotated: FloatArray = np.einsum("nij,nkj->nki", self.rotation_matrices(), local)
        return rotated + self.centers[:, None, :]

    def transformed(self, a_T_b: Pose) -> CuboidBatch:
        """All cuboids (expressed in frame b) expressed in frame a."""
        if len(self) == 0:
            return self
        rot = a_T_b.rotation * Rotation.from_quat(self.quats_xyzw)
        return CuboidBatch(a_T_b.apply(self.centers), self.sizes, rot.as_quat())
