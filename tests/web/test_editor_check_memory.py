"""The check key's memory in a real browser, on a real server: what ``a`` accepted feeds it, and a reload
keeps what the person judged (localStorage, per user and task).

As in test_editor_checks.py (whose helpers these tests use), each test has its own annotator and task
(own work layer) on the demo's KITTI tracking scene, confirms a moving candidate of the queue, and
computes the frame the check key must open with ``guidance.checks.next_check`` on the track read back
from the server's database. Each test leaves the shared candidate pending again at the end: by undo,
or, after a reload (which the edit history does not survive), through the API calls undo makes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

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
from tests.web.conftest import WebApi, WebServer
from tests.web.editor_support import (
    CANDIDATE_LAYER,
    GUIDANCE_TIMEOUT_MS,
    TRACKING_SCENE,
    LogIn,
    Shot,
    candidate_status,
    confirm_focused,
    copy_row,
    expect_frame,
    frame_on_screen,
    guidance,
    is_next_check,
    layer_track,
    open_and_confirm,
    period_s,
    saved,
    undo_all,
)

PROBED_CANDIDATES = 12
"""Moving candidates tried for one with a single weak end (the demo scene's third one has one)."""
WALK_PRESSES = 3
"""Presses of the check key before the reload: the confirmed frame, then the frames it opens."""


def _candidate_with_one_weak_end(api: WebApi, task: dict[str, Any]) -> str:
    """The first moving candidate of the queue whose proposed life (once confirmed as the queue
    suggests) has one end the evidence leaves weak and one it finds strong: confirmed through the API,
    the queue read, and the decision taken back, until one is found."""
    scene_id, task_id = task["scene_id"], task["id"]
    queue = [a for a in guidance(api, scene_id, task_id) if a["kind"] == "confirm_moving"]
    for item in queue[:PROBED_CANDIDATES]:
        candidate = str(item["track_id"])
        version = layer_track(api, scene_id, CANDIDATE_LAYER, candidate)["version"]
        body = {"expected_version": version, "task_id": task_id, "keyframes": item["keyframes"]}
        copy_id = str(api.call("POST", f"/api/tracks/{candidate}/confirm", body)["track"]["id"])
        try:
            ends = [a for a in guidance(api, scene_id, task_id) if a["track_id"] == copy_id]
        finally:
            _reopen(api, scene_id, task, candidate, copy_id)
        if sum(a["kind"] == "check_end" for a in ends) == 1:
            return candidate
    pytest.fail(f"none of the first {PROBED_CANDIDATES} moving candidates has exactly one weak end")


def _open_and_confirm_candidate(
    page: Page, web_server: WebServer, log_in: LogIn, user: str, task: dict[str, Any], candidate: str
) -> str:
    """The task open in the editor and ``candidate`` confirmed from the queue (a click on its item,
    then Enter), its copy selected; answers the copy's id."""
    log_in(page, user)
    page.goto(f"{web_server.url}/editor?task={task['id']}")
    expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
    page.click("[data-testid=filter-confirm_moving]")
    item = page.locator(
        f"[data-testid=guidance-queue] .list-item[data-kind=confirm_moving][data-track-id='{candidate}']"
    )
    item.locator(".label").click(timeout=GUIDANCE_TIMEOUT_MS)
    expect(item).to_have_class(re.compile(r"\bselected\b"))
    return confirm_focused(page, candidate)


def _limits(api: WebApi, scene_id: int) -> CheckLimits:
    return CheckLimits.from_seconds(*DEFAULT_LIMIT_SECONDS, period_s(api, scene_id))


def _expected_frame(track: Track, judged: Judged, limits: CheckLimits) -> int | None:
    found = next_check(track, judged, limits, supported_frames(track))
    return None if found is None else found.frame


def test_a_accepted_life_feeds_the_check_key_but_for_the_ends_the_queue_flags(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot, stored_track: Callable[[int], Track]
) -> None:
    user = "checks-accepted"
    web_server.add_user(user)
    task = web_server.create_task(web_server.scene_id(TRACKING_SCENE), user, layer=f"work-{user}")
    api = web_server.api(user)
    scene_id = task["scene_id"]
    api.call("POST", f"/api/tasks/{task['id']}/start", {"expected_version": task["version"]})
    candidate = _candidate_with_one_weak_end(api, task)
    copy_id = _open_and_confirm_candidate(page, web_server, log_in, user, task, candidate)

    # The editor's queue holds the proposed life once the timeline outlines it; the weak ends are the
    # queue's check_end items of this track (read through the API, as the editor reads them).
    timeline = page.locator("[data-testid=timeline-canvas]")
    expect(timeline).to_have_attribute(
        "data-proposed-lives", re.compile(rf"(^|,){copy_id}:\d+-\d+(,|$)"), timeout=GUIDANCE_TIMEOUT_MS
    )
    queue = [a for a in guidance(api, scene_id, task["id"]) if a["track_id"] == copy_id]
    first, last = next(a["life"] for a in queue if a["kind"] == "accept_life")
    weak = {a["frame"] for a in queue if a["kind"] == "check_end"}
    accepted = sorted({first, last} - weak)
    assert len(weak) == 1 and len(accepted) == 1, (first, last, weak)

    page.keyboard.press("a")
    saved(page)
    track = stored_track(int(copy_id))
    assert (track.first_frame, track.last_frame) == (first, last)
    assert track.attributes.get("life_accepted") is True

    # Two presses: the frame on screen was edited (confirmed, then its life set), so looked at but not
    # right; the frame the key opens is left unedited, so right (and kept as a keyframe by the key).
    limits = _limits(api, scene_id)
    looked: set[int] = set()
    right: set[int] = set()
    opened: list[int] = []
    kept = 0
    for press in range(2):
        here = frame_on_screen(page)
        looked.add(here)
        if press:
            right.add(here)
        with page.expect_request(is_next_check(copy_id)) as sent:
            page.keyboard.press("c")
        assert sent.value.post_data_json == {
            "task_id": task["id"],
            "looked": sorted(looked),
            "right": sorted(right),
            "accepted_ends": accepted,
        }
        answer = sent.value.response()
        assert answer is not None and answer.ok
        saved(page)
        after = stored_track(int(copy_id))
        assert isinstance(after.motion, Keyframed) and isinstance(track.motion, Keyframed)
        kept += len(after.motion.keyframes.keys() - track.motion.keyframes.keys())
        track = after
        judged = Judged(frozenset(looked), frozenset(right), frozenset(accepted))
        expected = next_check(track, judged, limits, supported_frames(track))
        assert expected is not None, "a fresh confirmation is not checked in two presses"
        assert answer.json()["frame"] == expected.frame
        expect_frame(page, expected.frame)
        opened.append(expected.frame)
        # The accepted end is never opened as an end to look at; the weak one is.
        assert not (expected.kind == "end" and expected.frame in accepted)
    assert weak <= looked | set(opened), "the weak end is looked at"
    shot(page, "after-accept")

    # The kept keyframes, the accepted life, the confirmation.
    undo_all(page, api, scene_id, candidate, steps=kept + 2)


def test_the_check_keys_memory_survives_a_reload_of_the_task(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot, stored_track: Callable[[int], Track]
) -> None:
    user = "checks-reload"
    task, candidate, copy_id = open_and_confirm(page, web_server, log_in, user, longest=True)
    api = web_server.api(user)
    scene_id = task["scene_id"]
    limits = _limits(api, scene_id)
    try:
        # A few presses: the confirmed frame is looked at (edited there), the frames the key opens
        # after are left unedited, so right.
        looked: set[int] = set()
        right: set[int] = set()
        for press in range(WALK_PRESSES):
            here = frame_on_screen(page)
            looked.add(here)
            if press:
                right.add(here)
            with page.expect_response(lambda r: is_next_check(copy_id)(r.request)) as answered:
                page.keyboard.press("c")
            frame_opened = answered.value.json()["frame"]
            assert frame_opened is not None, "a fresh confirmation is not checked in a few presses"
            saved(page)
            expect_frame(page, frame_opened)
        assert len(looked) == WALK_PRESSES and len(right) == WALK_PRESSES - 1

        # Reload the task; select the track in the object list (all objects listed), as a person does.
        page.reload()
        expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
        page.click("[data-testid=object-scope]")
        copy = copy_row(page, candidate)
        copy.locator(".label").click()
        expect(copy).to_have_class(re.compile(r"\bselected\b"))
        here = frame_on_screen(page)
        assert looked - {here} and right - {here}, "frames judged before the reload are to be remembered"
        with page.expect_request(is_next_check(copy_id)) as sent:
            page.keyboard.press("c")
        body = sent.value.post_data_json
        assert body == {
            "task_id": task["id"],
            "looked": sorted(looked | {here}),
            "right": sorted(right | {here}),
            "accepted_ends": [],
        }
        answer = sent.value.response()
        assert answer is not None and answer.ok
        saved(page)
        track = stored_track(int(copy_id))
        expected = _expected_frame(
            track, Judged(frozenset(looked | {here}), frozenset(right | {here})), limits
        )
        assert answer.json()["frame"] == expected
        if expected is not None:
            expect_frame(page, expected)
            expect(copy).to_have_class(re.compile(r"\bselected\b"))
        shot(page, "after-reload")
    finally:
        # The edit history does not survive a reload: take the edits back through the API as the
        # editor's undo does (delete the copy, reopen the candidate).
        _reopen(api, scene_id, task, candidate, copy_id)
    assert candidate_status(api, scene_id, candidate) == "candidate"


def _reopen(api: WebApi, scene_id: int, task: dict[str, Any], candidate: str, copy_id: str) -> None:
    if candidate_status(api, scene_id, candidate) == "candidate":
        return
    copy = layer_track(api, scene_id, task["layer"], copy_id)
    api.call("DELETE", f"/api/tracks/{copy_id}?expected_version={copy['version']}&task_id={task['id']}")
    version = layer_track(api, scene_id, CANDIDATE_LAYER, candidate)["version"]
    api.call("POST", f"/api/tracks/{candidate}/reopen", {"expected_version": version, "task_id": task["id"]})
