"""Pure geometry: SE(3) poses, cuboids, point-in-cuboid, projection, IoU, yaw arithmetic. No I/O."""

from labelpilot.geometry.cuboids import EDGES, UNIT_CORNERS, Cuboid, CuboidBatch
from labelpilot.geometry.poses import Pose
from labelpilot.geometry.yaw import interpolate_yaw, normalize_yaw, yaw_difference

__all__ = [
    "EDGES",
    "UNIT_CORNERS",
    "Cuboid",
    "CuboidBatch",
    "Pose",
    "interpolate_yaw",
    "normalize_yaw",
    "yaw_difference",
]
