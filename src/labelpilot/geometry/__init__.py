"""Pure geometry: SE(3) poses, cuboids, point-in-cuboid, projection, IoU, yaw arithmetic. No I/O."""

from labelpilot.geometry.cuboids import EDGES, UNIT_CORNERS, Cuboid, CuboidBatch
from labelpilot.geometry.iou import bev_iou, bev_iou_pairs, iou_3d, iou_3d_pairs
from labelpilot.geometry.points_in_cuboids import count_points_in_cuboids, points_in_cuboid, points_in_cuboids
from labelpilot.geometry.poses import Pose
from labelpilot.geometry.projection import project_cuboid_bbox, project_cuboid_edges, project_points
from labelpilot.geometry.yaw import headings, interpolate_yaw, normalize_yaw, yaw_difference

__all__ = [
    "EDGES",
    "UNIT_CORNERS",
    "Cuboid",
    "CuboidBatch",
    "Pose",
    "bev_iou",
    "bev_iou_pairs",
    "count_points_in_cuboids",
    "headings",
    "interpolate_yaw",
    "iou_3d",
    "iou_3d_pairs",
    "normalize_yaw",
    "points_in_cuboid",
    "points_in_cuboids",
    "project_cuboid_bbox",
    "project_cuboid_edges",
    "project_points",
    "yaw_difference",
]
