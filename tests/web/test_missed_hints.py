"""A missed object in a real browser: on the demo's KITTI odometry drive (30 sweeps, nothing labelled)
the guidance queue has one "Missed object?" item per object of lidar points that no box covers, not
one per sweep; ``n`` opens the strongest at the frame where it was seen best, ``g`` takes the box seen
there as a new track of the person's layer (one world box over the frames it was seen in, for an
object that stood still), and the queue offers that object no more.

Own annotator and task (own layer) on the shared demo scene.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from playwright.sync_api import Page, expect

from labelpilot.geometry import Pose
from tests.web.conftest import WebServer
from tests.web.editor_support import LogIn, Shot, expect_frame, saved, wait_for_queue

USER = "missed-hint-annotator"
ODOMETRY_SCENE = "KITTI odometry 00"
PER_SWEEP_CLUSTERS = 913
"""What the queue listed before, one item per uncovered cluster and sweep (measured on this drive)."""


def _missed(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i["kind"] == "look_at_missed"]


def test_a_missed_object_is_one_item_whose_box_one_key_takes(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    web_server.add_user(USER)
    scene_id = web_server.scene_id(ODOMETRY_SCENE)
    task = web_server.create_task(scene_id, USER, layer=USER)
    api = web_server.api(USER)
    queue_path = f"/api/scenes/{scene_id}/guidance?task_id={task['id']}"
    items = api.call("GET", queue_path)
    missed = _missed(items)
    assert missed and len(missed) == len(items)  # nothing labelled, no candidates
    assert len(missed) <= PER_SWEEP_CLUSTERS / 5
    for item in missed:
        first, last = item["life"]
        assert first <= item["frame"] <= last and item["proposal"]["center"] == item["center_world"]
    long_seen = [i for i in missed if i["life"][1] - i["life"][0] >= 20]
    assert len(long_seen) >= 5  # parked cars the drive passes, one item each

    log_in(page, USER)
    page.goto(f"{web_server.url}/editor?task={task['id']}")
    expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
    wait_for_queue(page)
    top = missed[0]
    listed = page.locator("[data-testid=guidance-queue] .list-item").first
    expect(listed).to_have_attribute("data-kind", "look_at_missed")
    expect(listed).to_contain_text("Missed object?")
    page.keyboard.press("n")
    expect_frame(page, top["frame"])
    shot(page, "missed-object-opened")
    page.keyboard.press("g")
    saved(page)
    rows = api.call("GET", f"/api/scenes/{scene_id}/layers/{USER}/tracks")
    assert len(rows) == 1
    track = rows[0]["track"]
    box = top["proposal"]
    # The strongest object is a parked car seen all along the drive: one world box over its frames.
    assert box["stationary"] and top["life"][1] - top["life"][0] >= 20
    assert track["stationary"] and [track["first_frame"], track["last_frame"]] == top["life"]
    pose = Pose.from_3x4(track["stationary_pose"])
    assert np.allclose(pose.translation, box["center"], atol=1e-3)
    assert abs(float(np.angle(np.exp(1j * (pose.yaw - box["yaw"]))))) < 1e-3
    assert np.allclose(track["size"], box["size"], atol=1e-3)
    if box["label"] is not None:
        assert track["label"] == box["label"]
    # The session's KPI counts the new track's shapes once (not its optimistic copy too).
    shapes = top["life"][1] - top["life"][0] + 1
    expect(page.locator("[data-kpi=shapes]")).to_have_text(str(shapes))
    shot(page, "missed-object-taken")

    # The box covers the object's points in every frame: the queue offers it no more.
    after = _missed(api.call("GET", queue_path))
    assert len(after) == len(missed) - 1
    assert not any(np.linalg.norm(np.subtract(i["center_world"][:2], box["center"][:2])) < 1.0 for i in after)
