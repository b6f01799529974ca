"""The browser's geometry agrees with the back end's.

The scene view and the camera panel move boxes between frames, test points against boxes and
project cuboids into images in JavaScript (static/js/geometry.js, projection.js). Run in chromium
on random boxes with pitch and roll, each result must match labelpilot.geometry, which the server
uses to derive and export the same shapes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from playwright.sync_api import Page
from scipy.spatial.transform import Rotation

from labelpilot.geometry import Cuboid, Pose, points_in_cuboid
from labelpilot.geometry.projection import project_cuboid_bbox, project_cuboid_edges
from tests.web.conftest import WebServer

SEED = 20261205
BOXES = 60
POINTS = 4000
MARGIN = 0.2
# A KITTI-like front camera: OpenCV axes (x right, y down, z forward) on the ego car (x forward, z up).
CAMERA_ROTATION = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])
CAMERA_MATRIX = [[721.5, 0.0, 609.6], [0.0, 721.5, 172.9], [0.0, 0.0, 1.0]]
IMAGE_SIZE = (1242, 375)

RUN_IN_PAGE = """
async ({ cases, points, camera, margin }) => {
  const g = await import('/static/js/geometry.js');
  const p = await import('/static/js/projection.js');
  const xyz = Float32Array.from(points.flat());
  const pinhole = p.pinholeCamera(camera);
  return cases.map(({ pose, box }) => {
    const moved = g.transformBox(g.poseToMatrix(pose), box);
    const full = { ...box, yaw: g.yawFromQuat(box.quat) };
    const projected = p.projectBox(pinhole, full);
    return {
      moved,
      corners: g.boxCorners(full),
      inside: Array.from(g.pointsInBox(xyz, points.length, full, margin)),
      edges: projected.edges,
      visible: projected.visible,
      yaw: full.yaw,
    };
  });
}
"""


def _random_boxes(rng: np.random.Generator) -> list[Cuboid]:
    boxes = []
    for _ in range(BOXES):
        yaw, pitch, roll = rng.uniform(-np.pi, np.pi), rng.uniform(-0.15, 0.15), rng.uniform(-0.15, 0.15)
        rotation = Rotation.from_euler("zyx", [yaw, pitch, roll])
        center = [rng.uniform(-25, 40), rng.uniform(-15, 15), rng.uniform(-2, 1)]
        size = [rng.uniform(0.4, 12), rng.uniform(0.4, 3), rng.uniform(0.5, 4)]
        boxes.append(Cuboid(np.array(center), np.array(size), rotation.as_quat()))
    return boxes


def _random_pose(rng: np.random.Generator) -> Pose:
    rotation = Rotation.from_euler("zyx", [rng.uniform(-np.pi, np.pi), *rng.uniform(-0.05, 0.05, 2)])
    return Pose.from_rotation_translation(rotation, rng.uniform(-500, 500, 3))


def _pose_12(pose: Pose) -> list[float]:
    return [float(v) for v in pose.matrix[:3, :].reshape(-1)]


def _segments(pairs: list[tuple[NDArray[np.float64], NDArray[np.float64]]]) -> list[tuple[float, ...]]:
    """Pixel segments as sorted, rounded endpoint pairs: comparable whatever the corner numbering."""
    out = []
    for a, b in pairs:
        ends = sorted(
            [(round(float(a[0]), 3), round(float(a[1]), 3)), (round(float(b[0]), 3), round(float(b[1]), 3))]
        )
        out.append((*ends[0], *ends[1]))
    return sorted(out)


def _same_rotation(a: list[float], b: NDArray[np.float64]) -> bool:
    return abs(abs(float(np.dot(a, b))) - 1.0) < 1e-9


def test_boxes_points_and_projections_match_the_back_end(page: Page, web_server: WebServer) -> None:
    rng = np.random.default_rng(SEED)
    boxes = _random_boxes(rng)
    poses = [_random_pose(rng) for _ in boxes]
    points = rng.uniform([-30, -20, -3], [45, 20, 3], size=(POINTS, 3)).astype(np.float32).astype(np.float64)
    camera_pose = Pose.from_rotation_translation(CAMERA_ROTATION, [0.27, 0.06, -0.07])
    camera: dict[str, Any] = {
        "ego_T_sensor": _pose_12(camera_pose),
        "intrinsics": {"matrix": CAMERA_MATRIX, "width": IMAGE_SIZE[0], "height": IMAGE_SIZE[1]},
    }
    cases = [
        {
            "pose": _pose_12(pose),
            "box": {"center": box.center.tolist(), "size": box.size.tolist(), "quat": box.quat_xyzw.tolist()},
        }
        for box, pose in zip(boxes, poses, strict=True)
    ]
    page.goto(f"{web_server.url}/login")
    results = page.evaluate(
        RUN_IN_PAGE, {"cases": cases, "points": points.tolist(), "camera": camera, "margin": MARGIN}
    )

    visible = 0
    for box, pose, got in zip(boxes, poses, results, strict=True):
        moved = box.transformed(pose)
        assert np.allclose(got["moved"]["center"], moved.center, atol=1e-6)
        assert _same_rotation(got["moved"]["quat"], moved.quat_xyzw)
        assert np.isclose(got["moved"]["yaw"], moved.yaw, atol=1e-9)
        assert np.isclose(got["yaw"], box.yaw, atol=1e-9)
        assert np.allclose(
            sorted(map(tuple, np.round(got["corners"], 6))), sorted(map(tuple, np.round(box.corners(), 6)))
        )

        inside = points_in_cuboid(points, box, margin=MARGIN)
        local = np.abs((points - box.center) @ box.rotation.as_matrix())
        on_boundary = np.any(np.abs(local - (box.size / 2 + MARGIN)) < 1e-4, axis=1)
        mine = np.zeros(len(points), dtype=bool)
        mine[got["inside"]] = True
        assert np.array_equal(mine[~on_boundary], inside[~on_boundary])

        in_camera = box.transformed(camera_pose.inverse())
        expected = project_cuboid_edges(in_camera, CAMERA_MATRIX)
        mine_edges = [(np.array(s[:2]), np.array(s[2:])) for s in got["edges"][:12]]
        assert _segments(mine_edges) == _segments(expected)
        bbox = project_cuboid_bbox(in_camera, CAMERA_MATRIX, image_size=IMAGE_SIZE)
        assert got["visible"] == (bbox is not None)
        visible += bbox is not None
    assert 5 < visible < BOXES, "the random boxes put some in the image and some outside it"
