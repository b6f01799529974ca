"""Undo and redo of candidate decisions, and the editor's events that are not edits, in a real browser.

Each test has its own annotator and task (own work layer) on the demo's KITTI tracking scene. The
candidate layer is shared by every test on that scene, so each test ends with its candidates pending
again, as it found them (by undoing its decision, which is what it tests).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, Response, expect

from tests.web.conftest import WebApi, WebServer

Shot = Callable[[Page, str], Path]
LogIn = Callable[[Page, str], None]

TRACKING_SCENE = "KITTI tracking 0001"
CANDIDATE_LAYER = "candidates:auto:pointrcnn"
# The guidance queue and the nudges are recomputed on the server after edits (seconds on 447 frames).
GUIDANCE_TIMEOUT_MS = 60_000


def _open_own_task(page: Page, web_server: WebServer, log_in: LogIn, user: str) -> dict[str, Any]:
    """A fresh annotator with a task of their own (own layer) on the tracking scene, open in the editor."""
    web_server.add_user(user)
    task = web_server.create_task(web_server.scene_id(TRACKING_SCENE), user, layer=f"work-{user}")
    log_in(page, user)
    page.goto(f"{web_server.url}/editor?task={task['id']}&debug=1")
    expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
    expect(page.locator("[data-testid=guidance-queue] .list-item").first).to_be_visible(
        timeout=GUIDANCE_TIMEOUT_MS
    )
    return task


def _saved(page: Page) -> None:
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")


def _toast(page: Page, text: str) -> None:
    expect(page.locator("[data-testid=toast]").filter(has_text=text)).to_have_count(1)


def _candidate_row(page: Page, candidate: str) -> Locator:
    return page.locator(f"#object-list .list-item[data-kind=candidate][data-id='{candidate}']")


def _copy_row(page: Page, candidate: str) -> Locator:
    return page.locator(f"#object-list .list-item[data-kind=track][data-key='candidate-{candidate}']")


def _event_sent(kind: str, task_id: int) -> Callable[[Response], bool]:
    """Matches the answer to the editor's POST of a task event of ``kind``."""

    def matches(response: Response) -> bool:
        request = response.request
        if request.method != "POST" or not request.url.endswith(f"/api/tasks/{task_id}/events"):
            return False
        body = request.post_data_json
        return isinstance(body, dict) and body.get("kind") == kind

    return matches


def _recorded(response: Response, kind: str) -> dict[str, Any]:
    """The event the server recorded (it answers 201 with it)."""
    assert response.status == 201, response.text()
    event: dict[str, Any] = response.json()
    assert event["kind"] == kind
    return event


def _open_next(page: Page, task_id: int, kind: str) -> str:
    """Show only ``kind`` in the queue and press n: its track is selected, and the opening recorded."""
    page.click(f"[data-testid=filter-{kind}]")
    with page.expect_response(_event_sent("guidance_item_opened", task_id)) as opened:
        page.keyboard.press("n")
    focused = page.locator("[data-testid=guidance-queue] .list-item.selected")
    expect(focused).to_have_attribute("data-kind", kind)
    track_id = focused.get_attribute("data-track-id")
    assert track_id is not None
    event = _recorded(opened.value, "guidance_item_opened")
    assert (event["track_id"], event["payload"]["action_kind"]) == (int(track_id), kind)
    expect(page.locator(f"#object-list .list-item.selected[data-id='{track_id}']")).to_be_visible()
    return track_id


def _candidate_status(api: WebApi, scene_id: int, candidate: str) -> str:
    tracks = api.call("GET", f"/api/scenes/{scene_id}/layers/{CANDIDATE_LAYER}/tracks")
    return str(next(row["track"]["status"] for row in tracks if str(row["track"]["id"]) == candidate))


def _live_tracks(api: WebApi, scene_id: int, layer: str) -> list[dict[str, Any]]:
    """The live tracks of a layer (none while the layer does not exist yet)."""
    layers = [layer_row["name"] for layer_row in api.call("GET", f"/api/scenes/{scene_id}/layers")]
    if layer not in layers:
        return []
    return [row["track"] for row in api.call("GET", f"/api/scenes/{scene_id}/layers/{layer}/tracks")]


def test_a_rejected_candidate_comes_back_with_undo_and_goes_again_with_redo(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    user = "undo-reject"
    task = _open_own_task(page, web_server, log_in, user)
    scene_id = web_server.scene_id(TRACKING_SCENE)
    api = web_server.api(user)
    candidate = _open_next(page, task["id"], "confirm_moving")
    assert _candidate_status(api, scene_id, candidate) == "candidate"

    page.keyboard.press("x")
    expect(_candidate_row(page, candidate)).to_have_count(0)
    _saved(page)
    assert _candidate_status(api, scene_id, candidate) == "rejected"
    shot(page, "rejected")

    page.keyboard.press("Control+z")
    expect(_candidate_row(page, candidate)).to_be_visible()
    expect(_candidate_row(page, candidate)).to_have_class(re.compile(r"\bselected\b"))
    _toast(page, "undone: reject the candidate")
    _saved(page)
    assert _candidate_status(api, scene_id, candidate) == "candidate"
    shot(page, "undone")

    page.keyboard.press("Control+Shift+z")
    expect(_candidate_row(page, candidate)).to_have_count(0)
    _toast(page, "redone: reject the candidate")
    _saved(page)
    assert _candidate_status(api, scene_id, candidate) == "rejected"
    shot(page, "redone")

    # And back once more, leaving the shared candidate layer as it was.
    page.keyboard.press("Control+z")
    expect(_candidate_row(page, candidate)).to_be_visible()
    _saved(page)
    assert _candidate_status(api, scene_id, candidate) == "candidate"
    assert _live_tracks(api, scene_id, f"work-{user}") == []


def test_undo_of_a_confirm_deletes_the_copy_and_reopens_the_candidate(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    user = "undo-confirm"
    task = _open_own_task(page, web_server, log_in, user)
    scene_id, layer = web_server.scene_id(TRACKING_SCENE), f"work-{user}"
    api = web_server.api(user)
    candidate = _open_next(page, task["id"], "confirm_moving")

    page.keyboard.press("Enter")
    expect(_copy_row(page, candidate)).to_have_attribute("data-status", "confirmed")
    _saved(page)
    (first_copy,) = _live_tracks(api, scene_id, layer)
    assert first_copy["key"] == f"candidate-{candidate}"
    assert _candidate_status(api, scene_id, candidate) == "confirmed"
    keyframes = sorted(int(f) for f in first_copy["keyframes"])
    expect(_copy_row(page, candidate).locator(".meta")).to_have_text(f"{len(keyframes)} kf")
    shot(page, "confirmed")

    page.keyboard.press("Control+z")
    expect(_copy_row(page, candidate)).to_have_count(0)
    expect(_candidate_row(page, candidate)).to_be_visible()
    _toast(page, "undone: confirm the candidate")
    _saved(page)
    assert _live_tracks(api, scene_id, layer) == []
    assert _candidate_status(api, scene_id, candidate) == "candidate"
    shot(page, "undone")

    page.keyboard.press("Control+Shift+z")
    expect(_copy_row(page, candidate)).to_have_attribute("data-status", "confirmed")
    expect(_candidate_row(page, candidate)).to_have_count(0)
    _saved(page)
    (again,) = _live_tracks(api, scene_id, layer)
    assert again["id"] != first_copy["id"]
    assert again["provenance"] == {"kind": "candidate", "source": CANDIDATE_LAYER}
    assert (again["key"], again["status"]) == (f"candidate-{candidate}", "confirmed")
    assert sorted(int(f) for f in again["keyframes"]) == keyframes
    assert _candidate_status(api, scene_id, candidate) == "confirmed"
    expect(_copy_row(page, candidate)).to_have_attribute("data-id", str(again["id"]))
    shot(page, "redone")

    page.keyboard.press("Control+z")
    expect(_candidate_row(page, candidate)).to_be_visible()
    _saved(page)
    assert _live_tracks(api, scene_id, layer) == []
    assert _candidate_status(api, scene_id, candidate) == "candidate"


def test_a_shown_nudge_is_recorded_and_a_dismissed_one_goes_away_for_good(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    user = "nudge-dismiss"
    task = _open_own_task(page, web_server, log_in, user)
    task_id = task["id"]
    api = web_server.api(user)

    # A still object confirmed as moving and keyed frame by frame: the slow path the nudge spots.
    candidate = _open_next(page, task_id, "confirm_stationary")
    page.keyboard.press("Enter")
    copy = _copy_row(page, candidate)
    expect(copy).to_have_attribute("data-status", "confirmed")
    _saved(page)
    track_id = int(str(copy.get_attribute("data-id")))
    nudge = page.locator("[data-testid=nudges] .list-item[data-kind=make_stationary]")
    with page.expect_response(_event_sent("nudge_shown", task_id), timeout=GUIDANCE_TIMEOUT_MS) as shown:
        for _ in range(3):
            page.keyboard.press("ArrowRight")
            page.keyboard.press("k")
            _saved(page)
        expect(nudge).to_be_visible(timeout=GUIDANCE_TIMEOUT_MS)
    event = _recorded(shown.value, "nudge_shown")
    assert (event["track_id"], event["payload"]["nudge_kind"]) == (track_id, "make_stationary")
    shot(page, "nudge-shown")
    # Recorded as shown, the server does not give it again; the panel keeps it until it is dealt with.
    assert api.call("GET", f"/api/tasks/{task_id}/nudges") == []
    expect(nudge).to_be_visible()

    # The person kept working within the last minute: a heartbeat is due.
    with page.expect_response(_event_sent("heartbeat", task_id)) as beat:
        assert page.evaluate("window.labelpilot.controller.events.tick()") is True
    assert _recorded(beat.value, "heartbeat")["payload"]["interval_s"] == 30

    with page.expect_response(_event_sent("nudge_dismissed", task_id)) as dismissed:
        page.keyboard.press("Shift+u")
    expect(nudge).to_have_count(0)
    _toast(page, "nudge dismissed")
    assert _recorded(dismissed.value, "nudge_dismissed")["track_id"] == track_id
    shot(page, "nudge-dismissed")

    # The situation changes (one box, then moving again) and the slow path starts over: a nudge that
    # was only shown would come back now, a dismissed one does not.
    page.keyboard.press("s")
    expect(copy).to_have_attribute("data-status", "stationary")
    _saved(page)
    page.keyboard.press("Shift+s")
    expect(copy).to_have_attribute("data-status", "confirmed")
    _saved(page)
    for _ in range(3):
        page.keyboard.press("ArrowRight")
        page.keyboard.press("k")
        _saved(page)
    assert api.call("GET", f"/api/tasks/{task_id}/nudges") == []
    expect(nudge).to_have_count(0)
