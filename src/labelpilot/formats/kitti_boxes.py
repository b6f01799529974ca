"""KITTI's camera-frame boxes <-> LabelPilot cuboids.

A KITTI box is (h, w, l), the BOTTOM centre (x, y, z) in the rectified camera-0 frame ``ref``
(x right, y down, z forward) and rotation_y, a rotation about ref's y axis. At rotation_y = 0 the
box's length runs along ref x, its width along ref z and its height up, i.e. along -y.
A LabelPilot cuboid is its centre, size (l, w, h) along its own x, y, z (z up) and a full rotation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from labelpilot.geometry import CuboidBatch, Pose, normalize_yaw

FloatArray = NDArray[np.float64]

REF_R_BOX_AT_ZERO = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
"""Columns: the cuboid's x (length), y (width), z (up) axes in ref coordinates when rotation_y = 0."""


@dataclass(frozen=True, eq=False)
class CameraBoxes:
    """N KITTI boxes: dims (h, w, l), bottom centres (x, y, z) in ref, rotation_y."""

    dims_hwl: FloatArray
    bottoms: FloatArray
    rotation_y: FloatArray


def _rot_y(angles: FloatArray) -> FloatArray:
    """Rotations about y, N x 3 x 3."""
    angles = np.asarray(angles, dtype=np.float64).reshape(-1, 1)
    return np.asarray(Rotation.from_euler("y", angles).as_matrix(), dtype=np.float64).reshape(-1, 3, 3)


def camera_boxes_to_ego(boxes: CameraBoxes, ego_T_ref: Pose) -> tuple[FloatArray, FloatArray]:
    """Box poses in the ego frame (N x 4 x 4, centre as translation) and sizes (l, w, h) (N x 3)."""
    dims = boxes.dims_hwl
    ref_R_box = _rot_y(boxes.rotation_y) @ REF_R_BOX_AT_ZERO
    # The box's up axis is ref -y whatever rotation_y is, so the centre is h/2 above the bottom.
    centers_ref = boxes.bottoms - np.stack([np.zeros(len(dims)), dims[:, 0] / 2.0, np.zeros(len(dims))], 1)
    poses = np.repeat(np.eye(4)[None], len(dims), axis=0)
    poses[:, :3, :3] = ego_T_ref.rotation_matrix @ ref_R_box
    poses[:, :3, 3] = ego_T_ref.apply(centers_ref.reshape(-1, 3))
    return poses, dims[:, ::-1].copy()


def ego_cuboids_to_camera(cuboids: CuboidBatch, ref_T_ego: Pose) -> CameraBoxes:
    """The inverse of ``camera_boxes_to_ego``; rotation_y is read off the box's x axis in ref.

    KITTI boxes turn about ref's y axis only. A box that is tilted in ref (a tilted camera, or a
    tilted ego pose between keyframes) keeps its centre exactly: the bottom is written h/2 below
    it along ref's y, which is where the reader looks for it. Only the tilt itself is lost, and
    rotation_y is the heading of the box's length axis projected onto ref's x-z plane. A box read
    from KITTI comes back exactly.
    """
    in_ref = cuboids.transformed(ref_T_ego)
    rotations = in_ref.rotation_matrices()
    sizes = in_ref.sizes
    bottoms = in_ref.centers + np.stack([np.zeros(len(sizes)), sizes[:, 2] / 2.0, np.zeros(len(sizes))], 1)
    rotation_y = normalize_yaw(np.arctan2(-rotations[:, 2, 0], rotations[:, 0, 0]))
    return CameraBoxes(sizes[:, ::-1].copy(), bottoms, rotation_y)


def observation_angle(rotation_y: FloatArray, bottoms: FloatArray) -> FloatArray:
    """KITTI's alpha: rotation_y minus the azimuth of the ray to the box, in (-pi, pi]."""
    return normalize_yaw(rotation_y - np.arctan2(bottoms[:, 0], bottoms[:, 2]))
