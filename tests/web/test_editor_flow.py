"""The guided editor end to end in a real browser, by keyboard as an annotator works.

The annotator opens the demo's KITTI tracking task (candidates from PointRCNN), confirms a candidate
as stationary and another with its suggested keyframes, sets a keyframe on the moving one, undoes and
redoes it, draws a box, keys a still object frame by frame until the nudge offers the faster path and
takes it, and submits. The work layer read back through the API must hold exactly that.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import APIRequestContext, Locator, Page, expect

from tests.web.conftest import ConsoleErrors, WebServer

Shot = Callable[[Page, str], Path]
LogIn = Callable[[Page, str], None]

TRACKING_SCENE = "KITTI tracking 0001"
CANDIDATE_LAYER = "candidates:auto:pointrcnn"
EDITABLE_KINDS = ("confirm_stationary", "confirm_moving")
# The guidance queue is recomputed on the server after edits (a few seconds for 447 frames).
GUIDANCE_TIMEOUT_MS = 60_000


def _saved(page: Page) -> None:
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")


def _row(page: Page, key: str) -> Locator:
    return page.locator(f"#object-list .list-item[data-key='{key}']")


def _frame(page: Page) -> int:
    text = page.locator("#frame-counter").inner_text()
    match = re.fullmatch(r"frame (\d+) / \d+", text.strip())
    assert match, text
    return int(match.group(1))


def _go_to_frame(page: Page, frame: int) -> None:
    """Step there with the arrow keys, as a person does."""
    current = _frame(page)
    key = "ArrowRight" if frame > current else "ArrowLeft"
    for _ in range(abs(frame - current)):
        page.keyboard.press(key)
    expect(page.locator("#frame-counter")).to_have_text(re.compile(rf"frame {frame} / "))


def _focus_next(page: Page, kind: str) -> str:
    """Show only ``kind`` in the queue, press n: the item in focus, its track selected; its track id."""
    page.click(f"[data-testid=filter-{kind}]")
    page.keyboard.press("n")
    focused = page.locator("[data-testid=guidance-queue] .list-item.selected")
    expect(focused).to_have_attribute("data-kind", kind)
    track_id = focused.get_attribute("data-track-id")
    assert track_id is not None
    expect(page.locator(f"#object-list .list-item.selected[data-id='{track_id}']")).to_be_visible()
    return track_id


def _keyframes(row: dict[str, Any]) -> list[int]:
    return sorted(int(f) for f in row["track"]["keyframes"])


def _get(request: APIRequestContext, url: str) -> Any:
    response = request.get(url)
    assert response.ok, f"GET {url}: {response.status} {response.text()[:300]}"
    return response.json()


def test_an_annotator_works_through_the_tracking_demo_task(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    manager = web_server.api("manager")
    scene_id = web_server.scene_id(TRACKING_SCENE)
    project_id = next(p["id"] for p in manager.call("GET", "/api/projects") if p["name"] == "demo")
    tasks = manager.call("GET", f"/api/projects/{project_id}/tasks?scene_id={scene_id}")
    task = next(t for t in tasks if t["kind"] == "annotate" and t["layer"] == "work")
    # The demo's own task, untouched so far: this test owns it and the demo annotator.
    assert (task["state"], task["assignee"]) == ("queued", None)
    scene_url = f"{web_server.url}/api/scenes/{scene_id}"
    assert manager.call("GET", f"/api/scenes/{scene_id}/layers/work/tracks") == []
    manager.call("POST", f"/api/tasks/{task['id']}/assign", {"user": "annotator"})
    guidance = manager.call("GET", f"/api/scenes/{scene_id}/guidance?task_id={task['id']}")
    suggested = {a["track_id"]: a["keyframes"] for a in guidance if a["kind"] == "confirm_moving"}
    opened_at = {a["track_id"]: a["frame"] for a in guidance if a["kind"] in EDITABLE_KINDS}

    # Start the task from "My tasks"; the editor opens on it with the guidance queue.
    log_in(page, "annotator")
    page.locator(f"#tasks-body tr[data-task-id='{task['id']}']").get_by_role("button", name="Start").click()
    page.wait_for_url(f"{web_server.url}/editor?task={task['id']}")
    expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
    queue = page.locator("[data-testid=guidance-queue] .list-item")
    expect(queue.first).to_be_visible(timeout=GUIDANCE_TIMEOUT_MS)
    expect(page.locator("[data-testid=open-items]")).to_contain_text("unconfirmed candidates")
    shot(page, "opened")

    # n walks the queue (here only its stationary candidates); s confirms the candidate in focus as one stationary world box.
    parked = _focus_next(page, "confirm_stationary")
    shot(page, "stationary-in-focus")
    page.keyboard.press("s")
    expect(_row(page, f"candidate-{parked}")).to_have_attribute("data-status", "stationary")
    _saved(page)
    shot(page, "marked-stationary")

    # Enter confirms a moving candidate, keyed at the frames the guidance suggests.
    moving = _focus_next(page, "confirm_moving")
    keys = suggested[moving]
    page.keyboard.press("Enter")
    moving_row = _row(page, f"candidate-{moving}")
    expect(moving_row).to_have_attribute("data-status", "confirmed")
    expect(moving_row.locator(".meta")).to_have_text(f"{len(keys)} kf")
    _saved(page)
    shot(page, "confirmed-moving")

    # k sets a keyframe on it between two suggested ones; ctrl+z takes it back, ctrl+shift+z redoes it.
    keyed = next(f for f in range(keys[0] + 1, keys[-1]) if f not in keys)
    _go_to_frame(page, keyed)
    expect(moving_row).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("k")
    expect(moving_row.locator(".meta")).to_have_text(f"{len(keys) + 1} kf")
    _saved(page)
    shot(page, "keyframe-set")
    page.keyboard.press("Control+z")
    expect(moving_row.locator(".meta")).to_have_text(f"{len(keys)} kf")
    expect(page.locator("[data-testid=toast]")).to_contain_text(f"undone: set a keyframe at frame {keyed}")
    _saved(page)
    shot(page, "undone")
    page.keyboard.press("Control+Shift+z")
    expect(moving_row.locator(".meta")).to_have_text(f"{len(keys) + 1} kf")
    _saved(page)
    shot(page, "redone")

    # b draws: a click in the bird's-eye view places a box of the class's typical size.
    page.keyboard.press("Escape")
    drawn_frame = _frame(page)
    page.keyboard.press("b")
    view = page.locator("#scene-view")
    box = view.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.7)
    drawn = page.locator("#object-list .list-item.selected[data-key^='manual-']")
    expect(drawn).to_be_visible()
    drawn_label = drawn.get_attribute("data-label")
    _saved(page)
    shot(page, "drawn")

    # A still object confirmed as moving and keyed frame by frame: the nudge offers one box (u).
    still = _focus_next(page, "confirm_stationary")
    page.keyboard.press("Enter")
    still_row = _row(page, f"candidate-{still}")
    expect(still_row).to_have_attribute("data-status", "confirmed")
    _saved(page)
    for _ in range(3):
        page.keyboard.press("ArrowRight")
        page.keyboard.press("k")
        _saved(page)
    nudge = page.locator("[data-testid=nudges] .list-item[data-kind=make_stationary]")
    expect(nudge).to_be_visible(timeout=GUIDANCE_TIMEOUT_MS)
    expect(nudge).to_contain_text("press s")
    shot(page, "nudge")
    page.keyboard.press("u")
    expect(still_row).to_have_attribute("data-status", "stationary")
    _saved(page)
    shot(page, "nudge-followed")

    # Submit asks first and says what is still open.
    page.click("#submit")
    dialog = page.locator("[data-testid=submit-dialog]")
    expect(dialog).to_contain_text("candidates still unconfirmed")
    shot(page, "submit-dialog")
    dialog.locator("[data-testid=submit-confirm]").click()
    page.wait_for_url(f"{web_server.url}/")

    # The API, with the annotator's session, shows exactly what was done.
    request = page.request
    assert _get(request, f"{web_server.url}/api/tasks/{task['id']}")["state"] == "submitted"
    work = {row["track"]["key"]: row for row in _get(request, f"{scene_url}/layers/work/tracks")}
    manual = [key for key in work if key.startswith("manual-")]
    assert len(manual) == 1
    assert set(work) == {f"candidate-{parked}", f"candidate-{moving}", f"candidate-{still}", manual[0]}
    for candidate in (parked, moving, still):
        track = work[f"candidate-{candidate}"]["track"]
        assert track["status"] == "confirmed"
        assert track["provenance"] == {"kind": "candidate", "source": CANDIDATE_LAYER}
    assert work[f"candidate-{parked}"]["track"]["stationary"] is True
    # Each confirmed where the queue opened it: the frame on screen is kept as where the box was judged.
    for candidate in (parked, moving):
        assert work[f"candidate-{candidate}"]["track"]["attributes"]["judged_frame"] == opened_at[candidate]
    assert work[f"candidate-{still}"]["track"]["stationary"] is True
    moving_track = work[f"candidate-{moving}"]
    assert moving_track["track"]["stationary"] is False
    assert _keyframes(moving_track) == sorted([*keys, keyed])
    drawn_track = work[manual[0]]["track"]
    assert drawn_track["label"] == drawn_label
    assert drawn_track["provenance"]["kind"] == "manual"
    assert (drawn_track["first_frame"], drawn_track["last_frame"]) == (drawn_frame, drawn_frame)
    assert sorted(int(f) for f in drawn_track["keyframes"]) == [drawn_frame]
    # Every track has a shape in each frame of its life (none was marked absent).
    for row in work.values():
        life = row["track"]["last_frame"] - row["track"]["first_frame"] + 1
        assert len(row["shapes"]["frames"]) == life - len(row["track"]["absent_frames"])
    candidates = {
        str(row["track"]["id"]): row["track"]["status"]
        for row in _get(request, f"{scene_url}/layers/{CANDIDATE_LAYER}/tracks")
    }
    assert {candidates[c] for c in (parked, moving, still)} == {"confirmed"}


def _open_own_task(page: Page, web_server: WebServer, log_in: LogIn, user: str) -> dict[str, Any]:
    """A fresh annotator with a task of their own (own layer) on the tracking scene, open in the editor."""
    web_server.add_user(user)
    task = web_server.create_task(web_server.scene_id(TRACKING_SCENE), user, layer=f"work-{user}")
    log_in(page, user)
    page.goto(f"{web_server.url}/editor?task={task['id']}")
    expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
    expect(page.locator("[data-testid=guidance-queue] .list-item").first).to_be_visible(
        timeout=GUIDANCE_TIMEOUT_MS
    )
    return task


def test_a_stale_edit_shows_both_versions_and_loses_nothing(
    page: Page, web_server: WebServer, log_in: LogIn, console_errors: ConsoleErrors, shot: Shot
) -> None:
    # The browser logs each refused stale edit (409) as a failed request: those are the point here.
    console_errors.allow(r"status of 409")
    _open_own_task(page, web_server, log_in, "editor-conflict")
    candidate = _focus_next(page, "confirm_moving")
    page.keyboard.press("Enter")
    row = _row(page, f"candidate-{candidate}")
    expect(row).to_have_attribute("data-status", "confirmed")
    _saved(page)
    track_id = row.get_attribute("data-id")
    manager = web_server.api("manager")
    track = manager.call(
        "GET", f"/api/scenes/{web_server.scene_id(TRACKING_SCENE)}/layers/work-editor-conflict/tracks"
    )
    assert [t["track"]["id"] for t in track] == [int(str(track_id))]

    # Someone else renames it meanwhile; my class change meets their version.
    theirs = manager.call("PATCH", f"/api/tracks/{track_id}", {"expected_version": 1, "label": "Van"})
    assert theirs["track"]["version"] == 2
    page.keyboard.press("2")
    mine = row.get_attribute("data-label")
    assert mine not in (None, "Van")
    dialog = page.locator("[data-testid=conflict-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-testid=conflict-table]")).to_contain_text("Van")
    expect(dialog.locator("[data-testid=conflict-table]")).to_contain_text(str(mine))
    expect(page.locator("#save-state")).to_have_attribute("data-state", "error")
    shot(page, "conflict")
    dialog.locator("[data-testid=conflict-mine]").click()
    _saved(page)
    stored = manager.call(
        "GET", f"/api/scenes/{web_server.scene_id(TRACKING_SCENE)}/layers/work-editor-conflict/tracks"
    )
    assert (stored[0]["track"]["label"], stored[0]["track"]["version"]) == (mine, 3)

    # Again, and this time theirs is kept: the editor shows the server's track, nothing of mine.
    manager.call("PATCH", f"/api/tracks/{track_id}", {"expected_version": 3, "size": [5.0, 2.0, 1.8]})
    page.keyboard.press("s")
    expect(dialog).to_be_visible()
    dialog.locator("[data-testid=conflict-theirs]").click()
    expect(row).to_have_attribute("data-status", "confirmed")
    expect(page.locator("[data-testid=toast]")).to_contain_text("kept the server's version")
    _saved(page)
    shot(page, "kept-theirs")
    stored = manager.call(
        "GET", f"/api/scenes/{web_server.scene_id(TRACKING_SCENE)}/layers/work-editor-conflict/tracks"
    )
    assert stored[0]["track"]["stationary"] is False
    assert (stored[0]["track"]["size"], stored[0]["track"]["version"]) == ([5.0, 2.0, 1.8], 4)


def test_every_shortcut_is_listed_and_a_remapped_key_stays_the_users(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    _open_own_task(page, web_server, log_in, "editor-keys")
    page.keyboard.press("?")
    overlay = page.locator("[data-testid=help-overlay]")
    expect(overlay).to_be_visible()
    for description in ("Next frame", "Confirm the selected candidate", "Mark stationary", "Undo", "Redo"):
        expect(overlay).to_contain_text(description)
    shot(page, "help")
    overlay.locator("[data-testid=remap-nextFrame]").click()
    page.keyboard.press("j")
    expect(page.locator("[data-testid=help-status]")).to_contain_text("Next frame: J")
    page.keyboard.press("Escape")
    expect(overlay).to_be_hidden()

    page.keyboard.press("j")
    expect(page.locator("#frame-counter")).to_have_text(re.compile(r"frame 1 / "))
    page.keyboard.press("ArrowRight")  # no longer bound
    page.keyboard.press("j")
    expect(page.locator("#frame-counter")).to_have_text(re.compile(r"frame 2 / "))

    # Kept for this user across page loads.
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
    page.keyboard.press("j")
    expect(page.locator("#frame-counter")).to_have_text(re.compile(r"frame 1 / "))
    stored = page.evaluate("localStorage.getItem('labelpilot.keymap.editor-keys')")
    assert stored == '{"nextFrame":["j"]}'


def test_the_timeline_jumps_to_a_clicked_frame_and_selects_the_clicked_track(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    _open_own_task(page, web_server, log_in, "editor-timeline")
    canvas = page.locator("[data-testid=timeline-canvas]")
    box = canvas.bounding_box()
    assert box is not None
    frames = int(str(canvas.get_attribute("data-frames")))
    gutter = int(str(canvas.get_attribute("data-gutter")))
    ruler = int(str(canvas.get_attribute("data-ruler")))
    frame_px = (box["width"] - gutter) / frames

    # The ruler: a click jumps to the frame under the pointer.
    target = frames // 2
    page.mouse.click(box["x"] + gutter + (target + 0.5) * frame_px, box["y"] + ruler / 2)
    expect(page.locator("#frame-counter")).to_have_text(re.compile(rf"frame {target} / "))

    # A row: the click selects its track (here the first candidate, which starts at frame 0) there.
    expect(page.locator("#object-list .list-item.selected")).to_have_count(0)
    page.mouse.click(box["x"] + gutter + 0.5 * frame_px, box["y"] + ruler + 4)
    expect(page.locator("#frame-counter")).to_have_text(re.compile(r"frame 0 / "))
    expect(page.locator("#object-list .list-item.selected[data-kind=candidate]")).to_have_count(1)
    shot(page, "timeline-click")
