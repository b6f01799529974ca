"""The stationary-objects review in a real browser: ``r`` shows every stationary candidate of the demo's
KITTI tracking scene at once (as many boxes as the API lists), ``s`` confirms the one in focus as
stationary with the box shown, ``x`` rejects the next, ``Escape`` leaves.

Own annotator and task (own work layer); both decisions on the shared candidate layer are undone at
the end, as the other tests on it expect.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from labelpilot.geometry.pose_json import pose_from_json
from tests.web.conftest import WebServer
from tests.web.editor_support import CANDIDATE_LAYER, LogIn, Shot, layer_track, open_own_task, saved

REVIEW_TIMEOUT_MS = 60_000
USER = "review-annotator"


def _eventually(check: Callable[[], Any], seconds: float = 20.0) -> Any:
    """The first truthy answer of ``check`` (the editor saves in the background)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def test_r_reviews_the_stationary_candidates_in_one_view(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    task = open_own_task(page, web_server, log_in, USER)
    scene_id = task["scene_id"]
    api = web_server.api(USER)
    review = api.call("GET", f"/api/scenes/{scene_id}/stationary-review?task_id={task['id']}")
    items = review["items"]
    assert len(items) >= 3 and review["points"] is None  # KITTI tracking here has no lidar

    page.keyboard.press("r")
    panel = page.locator("[data-testid=stationary-review]")
    expect(panel).to_be_visible()
    expect(panel).to_have_attribute("data-items", str(len(items)), timeout=REVIEW_TIMEOUT_MS)
    expect(panel).to_have_attribute("data-boxes", str(len(items)))
    expect(panel).to_have_attribute("data-current", items[0]["track_id"])
    expect(panel.locator("[data-testid=review-counter]")).to_have_text(f"1 of {len(items)}")
    expect(panel.locator(".list-item")).to_have_count(min(len(items), 80))
    scene_view = page.locator("#scene-view")
    expect(scene_view).to_have_attribute("data-main-layer", "review")
    expect(scene_view).to_have_attribute("data-main-view", "bev")
    # The first item's best close-up: its frame, a close-up beside the world view.
    expect(scene_view).to_have_attribute("data-frame", str(items[0]["frame"]))
    expect(scene_view).to_have_attribute("data-close-ups", "top,side,back")
    page.wait_for_timeout(500)
    shot(page, "review")

    # s: confirmed and stationary, with the world box the review showed.
    first, second = items[0], items[1]
    page.keyboard.press("s")
    expect(panel).to_have_attribute("data-items", str(len(items) - 1))
    expect(panel).to_have_attribute("data-current", second["track_id"])
    expect(panel.locator("[data-testid=review-counter]")).to_have_text(f"1 of {len(items) - 1}")
    saved(page)

    def copy_of_first() -> dict[str, Any] | None:
        rows = api.call("GET", f"/api/scenes/{scene_id}/layers/work-{USER}/tracks")
        found = [r["track"] for r in rows if r["track"]["key"] == f"candidate-{first['track_id']}"]
        return found[0] if found and found[0]["stationary"] else None

    copy = _eventually(copy_of_first)
    assert copy is not None and copy["status"] == "confirmed"
    pose = pose_from_json(copy["stationary_pose"])
    assert list(pose.translation) == pytest.approx(first["box"]["center"], abs=1e-6)
    assert pose.yaw == pytest.approx(first["box"]["yaw"], abs=1e-6)
    assert layer_track(api, scene_id, CANDIDATE_LAYER, first["track_id"])["status"] == "confirmed"

    # x: the next one is rejected, and leaves the list too.
    page.keyboard.press("x")
    expect(panel).to_have_attribute("data-items", str(len(items) - 2))
    expect(panel).to_have_attribute("data-current", items[2]["track_id"])
    saved(page)
    assert _eventually(
        lambda: layer_track(api, scene_id, CANDIDATE_LAYER, second["track_id"])["status"] == "rejected"
    )
    after = api.call("GET", f"/api/scenes/{scene_id}/stationary-review?task_id={task['id']}")["items"]
    assert [i["track_id"] for i in after] == [i["track_id"] for i in items[2:]]

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(scene_view).to_have_attribute("data-main-layer", "")

    # Undo both decisions: the shared candidates are pending again, as the other tests expect.
    page.keyboard.press("Control+z")
    saved(page)
    assert _eventually(
        lambda: layer_track(api, scene_id, CANDIDATE_LAYER, second["track_id"])["status"] == "candidate"
    )
    page.keyboard.press("Control+z")
    saved(page)
    assert _eventually(
        lambda: layer_track(api, scene_id, CANDIDATE_LAYER, first["track_id"])["status"] == "candidate"
    )
