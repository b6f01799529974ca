"""Where the end search opens first, in a real browser, on a track a person drew: searching past its
last frame (``e`` at the scene's last frame) opens the frame just past it, where tracks mostly end;
searching before its first frame (``e`` at frame 0) opens the middle of the bracket, since a person
draws an object where they first found it, which says nothing about where it starts. Escape stops
each search without an edit. Inside the life, the search goes toward the frames the person saw the
object at (``guidance/end_search.py``, served by ``POST /api/tracks/{id}/end-search``); a search
cancelled there takes the frames it found the object gone at back out of the check key's memory, and
so does a search replaced by a new ``e`` that the server refuses, which leaves no search open.

Own annotator and task (own work layer) per test on the demo's KITTI tracking scene; the track's
keyframes are read from a pending moving candidate of the shared candidate layer, which is left
untouched. The track is deleted at the end.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Locator, Page, expect

from labelpilot.guidance.end_search import EndSearch, narrow, probe
from tests.web.conftest import ConsoleErrors, WebApi, WebServer
from tests.web.drawn_tracks import (
    delete_track,
    keyed_moving_track,
    select_in_editor,
    started_task,
    track_life,
)
from tests.web.editor_support import (
    LogIn,
    Shot,
    expect_frame,
    is_next_check,
    layer_track,
    period_s,
    saved,
)

USER = "end-search-annotator"
STEP = 10
MIN_MOTION_M = 2.0
INSIDE_USER = "end-search-inside"
INSIDE_STEP = 20
"""The life of the track searched from inside: 21 frames, keyed at its ends."""
CANCEL_USER = "end-search-cancel"
REPLACE_USER = "end-search-replace"
ONE_FRAME = 30
"""The frame of the one-frame track a refused search is started on."""


def test_the_end_search_opens_past_a_drawn_end_first_and_the_middle_before_a_drawn_start(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    api, scene_id, task = started_task(web_server, USER)
    _, _, made = keyed_moving_track(api, scene_id, task, STEP, MIN_MOTION_M)
    first, last = track_life(made)
    frame_count = len(api.call("GET", f"/api/scenes/{scene_id}/frames"))
    assert first >= 2 and last < frame_count - 2, (first, last, frame_count)
    select_in_editor(page, web_server, log_in, USER, task["id"], str(made["id"]))
    status = page.locator("[data-testid=check-status]")

    page.keyboard.press("End")
    expect_frame(page, frame_count - 1)
    page.keyboard.press("e")
    expect(status).to_have_attribute("data-bracket", f"{last}-{frame_count - 1}")
    expect_frame(page, last + 1)
    shot(page, "past-the-end")
    page.keyboard.press("Escape")
    expect(status).not_to_have_attribute("data-bracket", re.compile(r"."))

    page.keyboard.press("Home")
    expect_frame(page, 0)
    page.keyboard.press("e")
    expect(status).to_have_attribute("data-bracket", f"{first}-0")
    expect_frame(page, first // 2)
    page.keyboard.press("Escape")
    expect(status).not_to_have_attribute("data-bracket", re.compile(r"."))

    assert layer_track(api, scene_id, task["layer"], str(made["id"]))["version"] == made["version"]
    delete_track(api, scene_id, task, made)


def _go_to(page: Page, frame: int, stride: int) -> None:
    """From the first frame by strides and steps, as a person would."""
    page.keyboard.press("Home")
    for _ in range(frame // stride):
        page.keyboard.press("Shift+ArrowRight")
    for _ in range(frame % stride):
        page.keyboard.press("ArrowRight")
    expect_frame(page, frame)


@dataclass(frozen=True)
class _KeyedTrack:
    api: WebApi
    scene_id: int
    task: dict[str, Any]
    track_id: str
    first: int
    last: int
    stride: int
    """Frames in a second (``shift+arrow``)."""
    status: Locator
    """The check status in the guidance panel."""


def _keyed_track_selected(page: Page, web_server: WebServer, log_in: LogIn, user: str) -> _KeyedTrack:
    """``user``'s own started task with a moving track keyed every ``INSIDE_STEP`` frames, selected in
    the editor."""
    api, scene_id, task = started_task(web_server, user)
    _, _, made = keyed_moving_track(api, scene_id, task, INSIDE_STEP, MIN_MOTION_M)
    track_id = str(made["id"])
    first, last = track_life(made)
    select_in_editor(page, web_server, log_in, user, task["id"], track_id)
    stride = round(1 / period_s(api, scene_id))
    status = page.locator("[data-testid=check-status]")
    return _KeyedTrack(api, scene_id, task, track_id, first, last, stride, status)


def test_inside_the_life_the_search_goes_toward_the_frame_seen_not_the_keyframe_beyond_the_middle(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    keyed = _keyed_track_selected(page, web_server, log_in, INSIDE_USER)
    api, scene_id, task, track_id = keyed.api, keyed.scene_id, keyed.task, keyed.track_id
    first, last, stride, status = keyed.first, keyed.last, keyed.stride, keyed.status
    # Seen late in the life (looked at with the check key and kept); gone at a frame past the middle:
    # the object only comes into view between the two. The rule before searched toward the middle and
    # its keyframe ``first`` instead, and would have cut the life at its end.
    seen, gone = last - 1, first + 12
    assert (first + last) / 2 < gone < seen - 2
    true_first = gone + 4

    _go_to(page, seen, stride)
    with page.expect_response(lambda r: is_next_check(track_id)(r.request)):
        page.keyboard.press("c")  # looked at, right, and kept as a keyframe
    expect_frame(page, first)  # the check key opens the first end next
    saved(page)
    kept = layer_track(api, scene_id, task["layer"], track_id)
    assert str(seen) in kept["keyframes"] and track_life(kept) == (first, last)

    _go_to(page, gone, stride)
    page.keyboard.press("e")
    expect(status).to_have_attribute("data-bracket", f"{seen}-{gone}")
    search = EndSearch(seen, gone)
    opened = probe(search)
    assert opened is not None and gone < opened < seen
    expect_frame(page, opened)
    shot(page, "inside-toward-the-seen-frame")
    answers = 0
    while opened is not None:
        page.keyboard.press("y" if opened >= true_first else "t")
        search = narrow(search, opened, opened >= true_first)
        answers += 1
        opened = probe(search)
        if opened is not None:
            expect(status).to_have_attribute("data-bracket", f"{search.present}-{search.absent}")
            expect_frame(page, opened)
    assert search == EndSearch(true_first, true_first - 1) and answers == 3
    expect(status).to_contain_text(f"starts at frame {true_first}")
    expect(status).not_to_have_attribute("data-bracket", re.compile(r"."))
    saved(page)
    after = layer_track(api, scene_id, task["layer"], track_id)
    assert track_life(after) == (true_first, last)
    assert after["version"] == kept["version"] + 1  # one edit
    expect_frame(page, true_first)
    delete_track(api, scene_id, task, after)


def _memory(page: Page, user: str, task_id: int) -> dict[str, Any]:
    """The check key's memory of the task as the editor keeps it (localStorage, per user and task)."""
    stored = page.evaluate("key => localStorage.getItem(key)", f"labelpilot.checks.{user}.{task_id}")
    return {} if stored is None else dict(json.loads(stored))


def test_a_search_cancelled_inside_the_life_forgets_the_frames_it_found_the_object_gone_at(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    keyed = _keyed_track_selected(page, web_server, log_in, CANCEL_USER)
    api, scene_id, task, track_id = keyed.api, keyed.scene_id, keyed.task, keyed.track_id
    first, last, stride, status = keyed.first, keyed.last, keyed.stride, keyed.status
    seen, gone = last - 1, first + 12

    _go_to(page, seen, stride)
    with page.expect_response(lambda r: is_next_check(track_id)(r.request)):
        page.keyboard.press("c")  # looked at and right, before any search
    saved(page)
    before = {"looked": [seen], "right": [seen], "accepted_ends": []}
    assert _memory(page, CANCEL_USER, task["id"]) == {track_id: before}

    _go_to(page, gone, stride)
    page.keyboard.press("e")
    expect(status).to_have_attribute("data-bracket", f"{seen}-{gone}")
    opened = probe(EndSearch(seen, gone))
    assert opened is not None and gone < opened < seen
    expect_frame(page, opened)
    page.keyboard.press("t")
    after_t = narrow(EndSearch(seen, gone), opened, False)
    expect(status).to_have_attribute("data-bracket", f"{after_t.present}-{after_t.absent}")
    during = _memory(page, CANCEL_USER, task["id"])[track_id]
    assert during["looked"] == sorted({seen, gone, opened}) and during["right"] == [seen]

    # Cancelled: the object was never seen at the frames the search found it gone at, which are still
    # in the life; a later search from inside it must not search toward them.
    page.keyboard.press("Escape")
    expect(status).not_to_have_attribute("data-bracket", re.compile(r"."))
    shot(page, "cancelled-inside")
    assert _memory(page, CANCEL_USER, task["id"]) == {track_id: before}

    kept = layer_track(api, scene_id, task["layer"], track_id)
    assert track_life(kept) == (first, last) and str(seen) in kept["keyframes"]
    delete_track(api, scene_id, task, kept)


def test_a_search_replaced_by_one_the_server_refuses_leaves_no_search_open(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot, console_errors: ConsoleErrors
) -> None:
    """``e`` while a search is open replaces it; where the new one cannot start (on the only frame of a
    one-frame track: no frame to search from), nothing is left open, and neither search's gone frames
    stay in the check key's memory."""
    console_errors.allow(r"422|no frame of the life to search from")
    api, scene_id, task = started_task(web_server, REPLACE_USER)
    body = {
        "layer": task["layer"],
        "label": "Car",
        "keyframes": {str(ONE_FRAME): {"center": [10.0, 2.0, 0.8], "yaw": 0.0}},
        "task_id": task["id"],
    }
    made = api.call("POST", f"/api/scenes/{scene_id}/tracks", body, status=201)["track"]
    track_id = str(made["id"])
    assert track_life(made) == (ONE_FRAME, ONE_FRAME)
    stride = round(1 / period_s(api, scene_id))
    select_in_editor(page, web_server, log_in, REPLACE_USER, task["id"], track_id)
    status = page.locator("[data-testid=check-status]")

    gone = ONE_FRAME + 5
    _go_to(page, gone, stride)
    page.keyboard.press("e")
    expect(status).to_have_attribute("data-bracket", f"{ONE_FRAME}-{gone}")
    expect_frame(page, ONE_FRAME + 1)
    assert _memory(page, REPLACE_USER, task["id"])[track_id]["looked"] == [gone]

    _go_to(page, ONE_FRAME, stride)
    with page.expect_response(lambda r: r.url.endswith(f"/api/tracks/{track_id}/end-search")) as refused:
        page.keyboard.press("e")
    assert refused.value.status == 422
    expect(status).not_to_have_attribute("data-bracket", re.compile(r"."))
    shot(page, "replaced-and-refused")
    memory = _memory(page, REPLACE_USER, task["id"]).get(track_id, {"looked": []})
    assert gone not in memory["looked"]
    page.keyboard.press("y")  # no search to answer
    expect(status).not_to_have_attribute("data-bracket", re.compile(r"."))

    kept = layer_track(api, scene_id, task["layer"], track_id)
    assert kept["version"] == made["version"]
    delete_track(api, scene_id, task, kept)
