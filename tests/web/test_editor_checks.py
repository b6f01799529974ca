"""The check key, the end search, the scan stride and "not here" in a real browser, on a real server.

Each test has its own annotator and task (own work layer) on the demo's KITTI tracking scene and
confirms the first moving candidate the queue offers; the candidate layer is shared by the web tests,
so each test ends by undoing its edits, leaving the candidate pending as it found it.

The frames the check key must open are computed here with ``guidance.checks.next_check`` on the
track as the server stored it (read from the server's database, detections included), with the limits
from the scene's timestamps as the API gives them, for the judged state the editor is documented to
keep: a frame left with the check key is looked at, and right when the track was not edited there.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from labelpilot.guidance.checks import (
    DEFAULT_LIMIT_SECONDS,
    CheckLimits,
    Judged,
    next_check,
    supported_frames,
)
from labelpilot.tracks import Keyframed, Track
from tests.web.conftest import WebServer
from tests.web.editor_support import (
    LogIn,
    Shot,
    copy_row,
    expect_frame,
    frame_on_screen,
    is_next_check,
    layer_track,
    open_and_confirm,
    period_s,
    saved,
    undo_all,
)

MAX_CHECKS = 80
"""More presses of the check key than any KITTI candidate needs (a bound, so a bug cannot loop)."""


def test_the_c_key_opens_the_frames_the_rule_gives_until_the_track_is_checked(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot, stored_track: Callable[[int], Track]
) -> None:
    user = "checks-walk"
    task, candidate, copy_id = open_and_confirm(page, web_server, log_in, user, longest=True)
    api = web_server.api(user)
    scene_id = task["scene_id"]
    limits = CheckLimits.from_seconds(*DEFAULT_LIMIT_SECONDS, period_s(api, scene_id))
    assert supported_frames(stored_track(int(copy_id))), "a confirmed candidate keeps agreeing detections"

    # The frame the candidate was confirmed at was edited there: looked at, not right. Every frame
    # the check key opens after is left unedited: right, and kept as a keyframe by the same key (the
    # effort model's accept), so the track is read back after each press.
    looked: set[int] = set()
    right: set[int] = set()
    opened: list[int] = []
    kept = 0
    edited_here = True
    for _ in range(MAX_CHECKS):
        here = frame_on_screen(page)
        looked.add(here)
        if not edited_here:
            right.add(here)
        with page.expect_request(is_next_check(copy_id)) as sent:
            page.keyboard.press("c")
        body = sent.value.post_data_json
        assert body == {
            "task_id": task["id"],
            "looked": sorted(looked),
            "right": sorted(right),
            "accepted_ends": [],
        }
        answer = sent.value.response()
        assert answer is not None and answer.ok
        saved(page)
        track = stored_track(int(copy_id))
        assert isinstance(track.motion, Keyframed)
        if here in right:
            assert here in track.motion.keyframes, "a frame found right is kept as a keyframe"
            kept += 1
        supported = supported_frames(track)
        assert answer.json()["supported_frames"] == sorted(supported)
        expected = next_check(track, Judged(frozenset(looked), frozenset(right)), limits, supported)
        if expected is None:
            assert answer.json()["frame"] is None
            break
        assert answer.json()["frame"] == expected.frame
        expect_frame(page, expected.frame)
        expect(page.locator("[data-testid=check-status]")).to_contain_text(expected.reason)
        expect(copy_row(page, candidate)).to_have_class(re.compile(r"\bselected\b"))
        opened.append(expected.frame)
        edited_here = False
    else:
        pytest.fail(f"the check key did not finish within {MAX_CHECKS} presses: {opened}")

    assert {track.first_frame, track.last_frame} <= looked
    assert any(f not in (track.first_frame, track.last_frame) for f in opened)  # stretches were bisected
    label = track.label
    expect(page.locator("[data-testid=toast]").filter(has_text=f"{label} is checked")).to_have_count(1)
    expect(page.locator("[data-testid=check-status]")).to_have_text(f"{label} is checked")
    shot(page, "checked")
    assert kept >= 1
    undo_all(page, api, scene_id, candidate, steps=1 + kept)


def test_end_search_stride_and_not_here_edit_the_life_one_undo_step_each(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    user = "checks-ends"
    task, candidate, copy_id = open_and_confirm(page, web_server, log_in, user)
    api = web_server.api(user)
    scene_id = task["scene_id"]
    layer = task["layer"]
    frame_count = len(api.call("GET", f"/api/scenes/{scene_id}/frames"))
    stride = round(1 / period_s(api, scene_id))
    assert stride > 1
    before = layer_track(api, scene_id, layer, copy_id)
    first, last = before["first_frame"], before["last_frame"]

    # shift+arrows: one second of frames.
    page.keyboard.press("Home")
    expect_frame(page, 0)
    page.keyboard.press("Shift+ArrowRight")
    expect_frame(page, stride)
    page.keyboard.press("Shift+ArrowRight")
    expect_frame(page, 2 * stride)
    page.keyboard.press("Shift+ArrowLeft")
    expect_frame(page, stride)

    # e from outside the life, where the object is gone; y/t answer an object that really ends a third
    # of the way to the scene's end (or, for a track that reaches it, starts a third of the way back).
    if last < frame_count - 1:
        outside, true_end = frame_count - 1, last + (frame_count - 1 - last) // 3
        page.keyboard.press("End")
    else:
        assert first > 0
        outside, true_end = 0, first - first // 3
        page.keyboard.press("Home")
    expect_frame(page, outside)
    status = page.locator("[data-testid=check-status]")
    page.keyboard.press("e")  # Escape stops a search: nothing changes
    expect(status).to_have_attribute("data-bracket", re.compile(r"^\d+-\d+$"))
    # From outside the life the search opens the frame just past the candidate's end first.
    expect_frame(page, last + 1 if outside > last else first - 1)
    page.keyboard.press("Escape")
    expect(status).not_to_have_attribute("data-bracket", re.compile(r"."))
    assert layer_track(api, scene_id, layer, copy_id)["version"] == before["version"]
    expect(copy_row(page, candidate)).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("Home" if outside == 0 else "End")
    expect_frame(page, outside)
    page.keyboard.press("e")
    expect(status).to_have_attribute("data-bracket", re.compile(r"^\d+-\d+$"))  # the server's answer
    presses = 0
    while status.get_attribute("data-bracket") is not None and presses < MAX_CHECKS:
        frame = frame_on_screen(page)
        seen = frame <= true_end if outside > last else frame >= true_end
        page.keyboard.press("y" if seen else "t")
        presses += 1
        # The key is handled once the bracket has this frame as a side (or the search is over).
        page.wait_for_function(
            """(f) => {
                const bracket = document.querySelector('[data-testid=check-status]').dataset.bracket;
                return !bracket || bracket.split('-').includes(String(f));
            }""",
            arg=frame,
        )
    assert 0 < presses <= int(np.ceil(np.log2(abs(outside - (last if outside > last else first))))) + 1
    expect(status).to_contain_text(f"at frame {true_end}")
    saved(page)
    found = (first, true_end) if outside > last else (true_end, last)
    after = layer_track(api, scene_id, layer, copy_id)
    assert (after["first_frame"], after["last_frame"]) == found
    assert after["version"] == before["version"] + 1  # one edit
    expect_frame(page, true_end)
    shot(page, "end-found")

    page.keyboard.press("Control+z")
    saved(page)
    undone = layer_track(api, scene_id, layer, copy_id)
    assert (undone["first_frame"], undone["last_frame"]) == (first, last)

    # shift+x at the last frame (the check key opens the first end, then the last): trimmed to the
    # nearest frame with a box.
    for end in (first, last):
        with page.expect_response(lambda r: is_next_check(copy_id)(r.request)):
            page.keyboard.press("c")
        expect_frame(page, end)
    absent = set(undone["absent_frames"])
    nearest = max(f for f in range(first, last) if f not in absent)
    page.keyboard.press("Shift+x")
    saved(page)
    trimmed = layer_track(api, scene_id, layer, copy_id)
    assert (trimmed["first_frame"], trimmed["last_frame"]) == (first, nearest)
    shot(page, "trimmed")

    page.keyboard.press("Control+z")
    saved(page)
    restored = layer_track(api, scene_id, layer, copy_id)
    assert (restored["first_frame"], restored["last_frame"]) == (first, last)

    # shift+x inside the life (one scan stride after the first frame): that frame is absent, and
    # undo brings it (and a keyframe it held) back.
    page.keyboard.press("Home")  # then to the first frame by strides and steps, as a person would
    inside = first + stride
    assert first < inside < last and inside not in absent
    for _ in range(first // stride):
        page.keyboard.press("Shift+ArrowRight")
    for _ in range(first % stride):
        page.keyboard.press("ArrowRight")
    expect_frame(page, first)
    page.keyboard.press("Shift+ArrowRight")
    expect_frame(page, inside)
    page.keyboard.press("Shift+x")
    saved(page)
    marked = layer_track(api, scene_id, layer, copy_id)
    assert inside in marked["absent_frames"] and str(inside) not in marked["keyframes"]
    assert (marked["first_frame"], marked["last_frame"]) == (first, last)
    page.keyboard.press("Control+z")
    saved(page)
    back = layer_track(api, scene_id, layer, copy_id)
    assert back["absent_frames"] == restored["absent_frames"] and back["keyframes"] == restored["keyframes"]

    # Undo the confirmation: the candidate is pending again.
    undo_all(page, api, scene_id, candidate, steps=1)
