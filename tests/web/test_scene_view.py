"""The 3D scene view and the camera panel in a real browser, on the demo scenes.

Each test is a new annotator with a task in their own layer. The odometry demo drive has ~120k-point
sweeps and no labels: its sweeps must be drawn whole and follow the frames, a box drawn in the
bird's-eye view must land where it was drawn with the class's size, the close-up handles must move
exactly as far as they were dragged, and "fit to points" must give the tight box around the lidar
points. The tracking demo has no lidar but camera images: the panel must show every candidate
whose projection falls in the image, the same ones the back end's projection finds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from playwright.sync_api import Locator, Page, expect

from labelpilot.geometry import Cuboid, Pose
from labelpilot.geometry.projection import project_cuboid_bbox
from tests.web.conftest import WebServer

Shot = Callable[[Page, str], Path]
LogIn = Callable[[Page, str], None]

ODOMETRY_SCENE = "KITTI odometry 00"
TRACKING_SCENE = "KITTI tracking 0001"
CANDIDATE_LAYER = "candidates:auto:pointrcnn"
LOAD_TIMEOUT_MS = 30_000
# The fit's rules (static/js/boxFit.js): points this far around the box are searched, those this
# high above the box's new bottom (the ground) belong to the object.
FIT_MARGIN = 0.5
GROUND_TOLERANCE = 0.2
# A parked object beside the road in the first odometry sweep (ego frame, metres), drawn back to front.
OBJECT_BACK = (11.0, 9.4)
OBJECT_FRONT = (11.0, 5.0)


def _open_task(page: Page, server: WebServer, log_in: LogIn, scene: str, user: str) -> dict[str, Any]:
    """A new annotator with a task on ``scene`` in their own layer, opened in the editor."""
    server.add_user(user)
    task = server.create_task(server.scene_id(scene), user, layer=user)
    log_in(page, user)
    page.goto(f"{server.url}/editor?task={task['id']}")
    expect(page.locator("body")).to_have_attribute("data-editor-ready", "true", timeout=LOAD_TIMEOUT_MS)
    return task


def _get(page: Page, server: WebServer, path: str) -> Any:
    response = page.request.get(f"{server.url}{path}")
    assert response.ok, f"GET {path}: {response.status}"
    return response.json()


def _point_count(page: Page, server: WebServer, scene_id: int, frame: int) -> int:
    response = page.request.get(f"{server.url}/api/scenes/{scene_id}/frames/{frame}/lidar")
    assert response.ok
    return int(response.headers["x-point-count"])


def _sweep_in_world(page: Page, server: WebServer, scene_id: int, frame: int) -> NDArray[np.float64]:
    """The frame's lidar points (N x 3) moved into the world frame, as the docs say to."""
    scene = _get(page, server, f"/api/scenes/{scene_id}")
    lidar = next(s for s in scene["sensors"] if s["kind"] == "lidar")
    world_t_ego = Pose.from_3x4(_get(page, server, f"/api/scenes/{scene_id}/frames")[frame]["world_T_ego"])
    body = page.request.get(f"{server.url}/api/scenes/{scene_id}/frames/{frame}/lidar").body()
    points = np.frombuffer(body, dtype="<f4").reshape(-1, 4)[:, :3].astype(np.float64)
    world_t_lidar = (world_t_ego @ Pose.from_3x4(lidar["ego_T_sensor"])).matrix
    return points @ world_t_lidar[:3, :3].T + world_t_lidar[:3, 3]


def _only_track(page: Page, server: WebServer, scene_id: int, layer: str) -> dict[str, Any]:
    rows = _get(page, server, f"/api/scenes/{scene_id}/layers/{layer}/tracks")
    assert len(rows) == 1, rows
    track: dict[str, Any] = rows[0]["track"]
    return track


def _box(track: dict[str, Any], frame: int) -> Cuboid:
    return Cuboid.from_pose(Pose.from_3x4(track["keyframes"][str(frame)]), track["size"])


def _wait_for_version(
    page: Page, server: WebServer, scene_id: int, layer: str, at_least: int
) -> dict[str, Any]:
    """The layer's one track once the edits of a gesture are saved (its version at least ``at_least``)."""
    for _ in range(100):
        track = _only_track(page, server, scene_id, layer)
        if track["version"] >= at_least:
            expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
            return track
        page.wait_for_timeout(100)
    raise AssertionError(f"the track did not reach version {at_least}: {track}")


def _drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=6)
    page.mouse.up()


def _centre(locator: Locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_the_odometry_sweep_is_drawn_whole_and_follows_the_frames(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    task = _open_task(page, web_server, log_in, ODOMETRY_SCENE, "w3-sweeps")
    scene_id = task["scene_id"]
    view = page.locator("#scene-view")
    expect(view).to_have_attribute("data-frame", "0", timeout=LOAD_TIMEOUT_MS)
    counts = {frame: _point_count(page, web_server, scene_id, frame) for frame in (0, 1, 6)}
    assert counts[0] > 100_000 and len(set(counts.values())) == 3, counts
    expect(view).to_have_attribute("data-points", str(counts[0]))
    expect(page.locator("#camera-panel")).to_be_hidden()
    shot(page, "sweep-3d")

    page.keyboard.press("ArrowRight")
    expect(view).to_have_attribute("data-frame", "1")
    expect(view).to_have_attribute("data-points", str(counts[1]))
    # Stepping faster than the sweeps arrive ends on the last frame asked for, with its points.
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    expect(view).to_have_attribute("data-frame", "6")
    expect(view).to_have_attribute("data-points", str(counts[6]))

    view.get_by_role("button", name="Range").click()
    expect(view).to_have_attribute("data-color-mode", "range")
    view.get_by_role("button", name="BEV").click()
    expect(view).to_have_attribute("data-main-view", "bev")
    expect(view).to_have_attribute("data-close-ups", "")
    shot(page, "sweep-bev-by-range")


def test_a_box_drawn_in_the_birds_eye_view_is_edited_in_the_close_ups_and_fitted(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    task = _open_task(page, web_server, log_in, ODOMETRY_SCENE, "w3-draw")
    scene_id, layer = task["scene_id"], task["layer"]
    view = page.locator("#scene-view")
    expect(view).to_have_attribute("data-frame", "0", timeout=LOAD_TIMEOUT_MS)
    page.keyboard.press("b")
    expect(view).to_have_attribute("data-main-view", "bev")

    main = page.locator("[data-viewport=main]")
    middle_x, middle_y = _centre(main)
    metres_per_pixel = float(main.get_attribute("data-metres-per-pixel") or "nan")
    look_x, look_y = (float(v) for v in (main.get_attribute("data-center") or "").split(","))

    def screen(x: float, y: float) -> tuple[float, float]:
        # The bird's-eye view has the car's heading (+x) up and its left (+y) to the left.
        return middle_x - (y - look_y) / metres_per_pixel, middle_y - (x - look_x) / metres_per_pixel

    # Before drawing: once drawn, the new box is one of the project's confirmed tracks that the priors learn from.
    priors = _get(page, web_server, f"/api/projects/{task['project_id']}/size-priors")
    _drag(page, screen(*OBJECT_BACK), screen(*OBJECT_FRONT))
    page.mouse.click(*screen(*OBJECT_FRONT))  # a click takes the class's typical width
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")
    drawn = _only_track(page, web_server, scene_id, layer)
    prior = priors[drawn["label"]]["mean"]
    box = _box(drawn, 0)
    pixel = 2 * metres_per_pixel  # the drag lands on whole pixels
    assert math.isclose(box.size[0], OBJECT_BACK[1] - OBJECT_FRONT[1], abs_tol=pixel)
    assert np.allclose(box.size[1:], prior[1:], atol=1e-6)
    assert math.isclose(box.yaw, -math.pi / 2, abs_tol=0.01)
    assert np.allclose(box.center[:2], [OBJECT_BACK[0], (OBJECT_BACK[1] + OBJECT_FRONT[1]) / 2], atol=pixel)
    points = _sweep_in_world(page, web_server, scene_id, 0)
    near = np.linalg.norm(points[:, :2] - box.center[:2], axis=1) < 3.0
    ground = np.percentile(points[near, 2], 5)
    assert abs((box.center[2] - box.size[2] / 2) - ground) < 0.15, "the new box stands on the ground"
    expect(view).to_have_attribute("data-close-ups", "top,side,back")
    shot(page, "drawn-box-close-ups")

    # Side view: the top edge dragged up raises the top only; the bottom stays on the ground.
    side = page.locator("[data-viewport=side]")
    side_x, side_y = _centre(side)
    side_scale = float(side.get_attribute("data-pixels-per-metre") or "nan")
    top_edge = (side_x, side_y - box.size[2] / 2 * side_scale)
    _drag(page, top_edge, (top_edge[0], top_edge[1] - 24))
    # A face moves: a new size and a new centre, two edits.
    raised = _wait_for_version(page, web_server, scene_id, layer, drawn["version"] + 2)
    taller = _box(raised, 0)
    assert math.isclose(taller.size[2], box.size[2] + 24 / side_scale, abs_tol=0.02)
    assert math.isclose(taller.center[2] - taller.size[2] / 2, box.center[2] - box.size[2] / 2, abs_tol=0.02)
    assert np.allclose(taller.size[:2], box.size[:2]) and np.allclose(
        taller.center[:2], box.center[:2], atol=1e-6
    )

    # Top view: the knob ahead of the box turns it about its centre, clockwise when pulled right.
    top = page.locator("[data-viewport=top]")
    top_x, top_y = _centre(top)
    top_scale = float(top.get_attribute("data-pixels-per-metre") or "nan")
    knob_distance = taller.size[0] / 2 * top_scale + 24
    _drag(page, (top_x, top_y - knob_distance), (top_x + 30, top_y - knob_distance))
    turned = _box(_wait_for_version(page, web_server, scene_id, layer, raised["version"] + 1), 0)
    assert math.isclose(turned.yaw, taller.yaw - math.atan2(30, knob_distance), abs_tol=0.01)
    assert np.allclose(turned.center, taller.center, atol=1e-6)
    shot(page, "edited-in-close-ups")

    page.keyboard.press("f")
    fitted = _box(_wait_for_version(page, web_server, scene_id, layer, raised["version"] + 3), 0)
    assert math.isclose(fitted.yaw, turned.yaw, abs_tol=1e-6), "fitting keeps the heading"
    _assert_tight_fit(points, turned, fitted)
    shot(page, "fitted-to-points")


def _assert_tight_fit(points: NDArray[np.float64], before: Cuboid, fitted: Cuboid) -> None:
    """Every point near the old box above the fitted box's bottom (the ground) by the tolerance is
    inside the fitted box, and each of its side faces and its top touches one of them."""
    local_before = (points - before.center) @ before.rotation.as_matrix()
    half = before.size / 2 + FIT_MARGIN + np.array([0.0, 0.0, FIT_MARGIN])
    searched = points[np.all(np.abs(local_before) <= half, axis=1)]
    bottom = fitted.center[2] - fitted.size[2] / 2
    object_points = searched[searched[:, 2] > bottom + GROUND_TOLERANCE]
    assert len(object_points) >= 5
    local = (object_points - fitted.center) @ fitted.rotation.as_matrix()
    extents = np.abs(local[:, :2]).max(axis=0)
    assert np.all(extents <= fitted.size[:2] / 2 + 0.01), "a point of the object is outside the fit"
    for axis in (0, 1):
        assert math.isclose(local[:, axis].max(), fitted.size[axis] / 2, abs_tol=0.01)
        assert math.isclose(local[:, axis].min(), -fitted.size[axis] / 2, abs_tol=0.01)
    assert math.isclose(object_points[:, 2].max(), fitted.center[2] + fitted.size[2] / 2, abs_tol=0.01)


def test_the_camera_panel_shows_the_candidates_the_back_end_projects_into_the_image(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    task = _open_task(page, web_server, log_in, TRACKING_SCENE, "w3-cameras")
    scene_id = task["scene_id"]
    panel = page.locator("#camera-panel")
    view = page.locator("#scene-view")
    expect(view).to_have_attribute("data-frame", "0", timeout=LOAD_TIMEOUT_MS)
    expect(view).to_have_attribute("data-points", "0")  # no lidar in this scene, boxes all the same
    expect(panel).to_contain_text("No camera image at frame 0")
    expect(panel).to_contain_text("nearest: 10")

    for _ in range(10):
        page.keyboard.press("ArrowRight")
    expect(panel).to_have_attribute("data-frame", "10")
    expect(panel).to_have_attribute("data-cameras", "image_02")

    scene = _get(page, web_server, f"/api/scenes/{scene_id}")
    camera = next(s for s in scene["sensors"] if s["name"] == "image_02")
    camera_t_ego = Pose.from_3x4(camera["ego_T_sensor"]).inverse()
    intrinsics = camera["intrinsics"]
    shapes = _get(page, web_server, f"/api/scenes/{scene_id}/frames/10/shapes?layer={CANDIDATE_LAYER}")
    candidates = [s for s in shapes if s["status"] == "candidate"]
    in_image = sorted(
        str(s["track_id"])
        for s in candidates
        if project_cuboid_bbox(
            Cuboid(s["ego"]["center"], s["ego"]["size"], s["ego"]["quaternion"]).transformed(camera_t_ego),
            intrinsics["matrix"],
            image_size=(intrinsics["width"], intrinsics["height"]),
        )
        is not None
    )
    assert in_image, "frame 10 of the demo shows cars in front of the camera"
    expect(panel).to_have_attribute("data-box-ids", ",".join(in_image))
    expect(view).to_have_attribute("data-boxes", str(len(candidates)))
    # The image itself is drawn under the boxes: the canvas is not one flat colour.
    spread = page.evaluate(
        """() => {
          const canvas = document.querySelector('#camera-panel canvas');
          const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          const grey = new Set();
          for (let i = 0; i < pixels.length; i += 4 * 97) grey.add(pixels[i] + pixels[i + 1] + pixels[i + 2]);
          return grey.size;
        }"""
    )
    assert spread > 100

    page.keyboard.press("Tab")
    expect(view).to_have_attribute("data-close-ups", "top,side,back")
    shot(page, "camera-panel-and-close-ups")
