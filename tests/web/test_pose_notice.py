"""The ego-pose notice in a real browser: on the demo's KITTI tracking scene ``autolabel`` corrected
the ego poses from its stationary candidates, and some landmarks still disagree with them, so the
guidance panel says so with the spreads the API reports. After a manager switches the scene back to
the imported poses the notice says which poses are in use; the corrected poses are restored after.

Own annotator and task (own work layer) on the shared demo scene.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.web.conftest import WebServer
from tests.web.editor_support import LogIn, Shot, open_own_task

USER = "pose-notice-annotator"


def test_the_guidance_panel_shows_when_poses_and_landmarks_disagree(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    task = open_own_task(page, web_server, log_in, USER)
    scene_id = task["scene_id"]
    status: dict[str, Any] = web_server.api(USER).call("GET", f"/api/scenes/{scene_id}/ego-poses")
    assert status["active"] == "corrected" and status["notice"], status
    estimate = status["estimate"]
    before, after = estimate["disagreement_before_m"], estimate["disagreement_after_m"]
    assert after < before

    notice = page.locator("#guidance-panel [data-testid=pose-notice]")
    expect(notice).to_be_visible()
    expect(notice.locator("[data-testid=pose-notice-text]")).to_have_text(status["notice"])
    expect(notice).to_contain_text("Ego poses and landmarks disagree")
    expect(notice).to_contain_text(
        f"corrected poses in use, scale {estimate['parameters']['mean_scale']:.3f}"
    )
    expect(notice).to_contain_text(f"landmark spread {before:.2f} m → {after:.2f} m")
    expect(notice).to_have_attribute("data-active", "corrected")
    shot(page, "corrected")

    # A manager goes back to the imported poses: the notice tells the editor which poses are in use.
    manager = web_server.api("manager")
    try:
        switched = manager.call("PUT", f"/api/scenes/{scene_id}/ego-poses/active", {"name": "raw"})
        assert switched["active"] == "raw" and switched["switch"]["tracks_moved"] > 0
        page.reload()
        expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
        expect(notice).to_have_attribute("data-active", "raw")
        expect(notice).to_contain_text("imported poses in use")
        shot(page, "raw")
    finally:
        manager.call("PUT", f"/api/scenes/{scene_id}/ego-poses/active", {"name": "corrected"})
    # Annotators may not switch the poses.
    web_server.api(USER).call("PUT", f"/api/scenes/{scene_id}/ego-poses/active", {"name": "raw"}, status=403)
