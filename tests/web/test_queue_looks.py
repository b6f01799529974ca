"""Looks through the guidance queue feed the check key's memory, in a real browser on a real server.

A moving candidate confirmed from the queue at its suggested keyframes (Enter) is walked with ``n``:
each keyframe in turn, but the frame it was confirmed at. Leaving a frame by ``n`` records it as the
check key does (checkFlow.js): looked at, and right when the track was not edited while it was on
screen. So the check key opens none of the walked keyframes again, and the queue's ``check_end`` item
at a weak end the walk found right is skipped, as the effort benchmark's annotator assumes
(``effort/workflows.py``).

As in test_editor_check_memory.py, each test has its own annotator and task (own work layer) on the
demo's KITTI tracking scene, and leaves the shared candidate pending again at the end, through the
API calls the editor's undo makes (delete the copy, reopen the candidate).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from labelpilot.guidance.checks import (
    DEFAULT_LIMIT_SECONDS,
    CheckLimits,
    Judged,
    next_check,
    supported_frames,
)
from labelpilot.tracks import Track
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
)

PROBED_CANDIDATES = 12
"""Moving candidates tried for one whose weak end (a check_end item) is one of its suggested keyframes."""


def _memory(page: Page, user: str, task_id: int) -> dict[str, Any]:
    """The check key's memory of the task as the editor keeps it (localStorage, per user and task)."""
    stored = page.evaluate("key => localStorage.getItem(key)", f"labelpilot.checks.{user}.{task_id}")
    return {} if stored is None else dict(json.loads(stored))


def _judged(looked: Iterable[int], right: Iterable[int]) -> dict[str, list[int]]:
    return {"looked": sorted(set(looked)), "right": sorted(set(right)), "accepted_ends": []}


def _walk_frames(api: WebApi, task: dict[str, Any], copy_id: str, confirmed_at: int) -> list[int]:
    """The keyframes ``n`` walks after the confirmation: the copy's (the suggested ones), but the frame
    it was confirmed at."""
    copy = layer_track(api, task["scene_id"], task["layer"], copy_id)
    return sorted(int(f) for f in copy["keyframes"] if int(f) != confirmed_at)


def _next_keyframe(page: Page, candidate: str, frame: int) -> None:
    """``n`` during the walk: the next suggested keyframe opens, the copy still selected."""
    page.keyboard.press("n")
    expect_frame(page, frame)
    expect(copy_row(page, candidate)).to_have_class(re.compile(r"\bselected\b"))


def _take_back(api: WebApi, task: dict[str, Any], candidate: str, copy_id: str | None) -> None:
    """The layer as it was: the copy deleted, the candidate pending again (what undo does)."""
    scene_id = task["scene_id"]
    if candidate_status(api, scene_id, candidate) == "candidate":
        return
    if copy_id is not None:
        copy = layer_track(api, scene_id, task["layer"], copy_id)
        api.call("DELETE", f"/api/tracks/{copy_id}?expected_version={copy['version']}&task_id={task['id']}")
    version = layer_track(api, scene_id, CANDIDATE_LAYER, candidate)["version"]
    api.call("POST", f"/api/tracks/{candidate}/reopen", {"expected_version": version, "task_id": task["id"]})
    assert candidate_status(api, scene_id, candidate) == "candidate"


def _copy_of(page: Page, candidate: str) -> str | None:
    """The copy's id when the candidate was confirmed in the editor (None otherwise)."""
    row = copy_row(page, candidate)
    return row.get_attribute("data-id") if row.count() else None


@dataclass(frozen=True)
class _Walk:
    """A confirmed candidate about to be walked: its copy, the frame it was confirmed at and the
    keyframes ``n`` opens."""

    api: WebApi
    task: dict[str, Any]
    candidate: str
    copy_id: str
    confirmed_at: int
    frames: list[int]


@contextmanager
def _confirmed_longest(page: Page, web_server: WebServer, log_in: LogIn, user: str) -> Iterator[_Walk]:
    """A fresh annotator's longest listed moving candidate confirmed from the queue (Enter), with at
    least two keyframes to walk; the candidate is pending again afterwards."""
    task, candidate, copy_id = open_and_confirm(page, web_server, log_in, user, longest=True)
    api = web_server.api(user)
    try:
        confirmed_at = frame_on_screen(page)
        walk = _walk_frames(api, task, copy_id, confirmed_at)
        assert len(walk) >= 2, f"the longest moving candidate has {len(walk)} keyframes to walk"
        yield _Walk(api, task, candidate, copy_id, confirmed_at, walk)
    finally:
        _take_back(api, task, candidate, copy_id)


def test_n_records_the_walked_keyframes_and_the_check_key_opens_none_of_them(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot, stored_track: Callable[[int], Track]
) -> None:
    user = "looks-walk"
    with _confirmed_longest(page, web_server, log_in, user) as ready:
        api, task, candidate, copy_id = ready.api, ready.task, ready.candidate, ready.copy_id
        confirmed_at, walk = ready.confirmed_at, ready.frames

        # Each n leaves a frame: the one it was confirmed at is looked at (edited there: the
        # confirmation), each keyframe left unedited is right too.
        for index, frame in enumerate(walk):
            _next_keyframe(page, candidate, frame)
            walked = walk[:index]
            assert _memory(page, user, task["id"]) == {copy_id: _judged([confirmed_at, *walked], walked)}
        shot(page, "walked")

        # c records the last keyframe, then asks for a frame with everything judged so far.
        with page.expect_request(is_next_check(copy_id)) as sent:
            page.keyboard.press("c")
        assert sent.value.post_data_json == {"task_id": task["id"], **_judged([confirmed_at, *walk], walk)}
        answer = sent.value.response()
        assert answer is not None and answer.ok
        saved(page)
        track = stored_track(int(copy_id))
        limits = CheckLimits.from_seconds(*DEFAULT_LIMIT_SECONDS, period_s(api, task["scene_id"]))
        judged = Judged(frozenset([confirmed_at, *walk]), frozenset(walk))
        expected = next_check(track, judged, limits, supported_frames(track))
        opened = answer.json()["frame"]
        assert opened == (None if expected is None else expected.frame)
        assert opened not in {confirmed_at, *walk}, "the check key opens a frame judged in the walk"
        if opened is None:
            expect(page.locator("[data-testid=check-status]")).to_have_text(f"{track.label} is checked")
        else:
            expect_frame(page, opened)
        shot(page, "checked-next")


def test_a_walked_keyframe_edited_there_is_looked_at_but_not_right(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    user = "looks-edited"
    with _confirmed_longest(page, web_server, log_in, user) as ready:
        api, task, candidate, copy_id = ready.api, ready.task, ready.candidate, ready.copy_id
        confirmed_at = ready.confirmed_at
        edited, unedited = ready.frames[0], ready.frames[1]

        # At the first keyframe the person edits the track (shift+k: no keyframe there any more).
        _next_keyframe(page, candidate, edited)
        page.keyboard.press("Shift+k")
        saved(page)
        assert str(edited) not in layer_track(api, task["scene_id"], task["layer"], copy_id)["keyframes"]
        shot(page, "edited")

        # The walk goes on to the next keyframe, left unedited; then on (a keyframe, or the queue).
        _next_keyframe(page, candidate, unedited)
        assert _memory(page, user, task["id"]) == {copy_id: _judged([confirmed_at, edited], [])}
        page.keyboard.press("n")
        memory = _memory(page, user, task["id"])
        assert memory == {copy_id: _judged([confirmed_at, edited, unedited], [unedited])}
        shot(page, "left")


def _candidate_with_a_walked_weak_end(api: WebApi, task: dict[str, Any]) -> tuple[str, int]:
    """The first moving candidate of the queue that, confirmed as the editor confirms it (at its
    suggested keyframes, judged at the item's frame), gets a check_end item at one of the keyframes
    the walk opens: confirmed through the API, the queue read, the decision taken back, until one is
    found. Answers (candidate, that weak end's frame)."""
    scene_id, task_id = task["scene_id"], task["id"]
    queue = [a for a in guidance(api, scene_id, task_id) if a["kind"] == "confirm_moving"]
    for item in queue[:PROBED_CANDIDATES]:
        candidate = str(item["track_id"])
        version = layer_track(api, scene_id, CANDIDATE_LAYER, candidate)["version"]
        body = {
            "expected_version": version,
            "task_id": task_id,
            "keyframes": item["keyframes"],
            "judged_frame": item["frame"],
        }
        copy_id: str | None = None
        try:
            copy_id = str(api.call("POST", f"/api/tracks/{candidate}/confirm", body)["track"]["id"])
            weak = {
                int(a["frame"])
                for a in guidance(api, scene_id, task_id)
                if a["kind"] == "check_end" and a["track_id"] == copy_id
            }
        finally:
            _take_back(api, task, candidate, copy_id)
        walked = weak & (set(item["keyframes"]) - {item["frame"]})
        if walked:
            return candidate, min(walked)
    pytest.fail(
        f"none of the first {PROBED_CANDIDATES} moving candidates has a weak end at a walked keyframe"
    )


def _check_end_item(page: Page, copy_id: str, frame: int) -> Locator:
    return page.locator(
        f"[data-testid=guidance-queue] .list-item[data-kind=check_end][data-track-id='{copy_id}']"
    ).filter(has_text=re.compile(rf"frame {frame} \u00b7"))


def test_n_skips_a_check_end_item_the_walk_found_right(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    user = "looks-check-end"
    web_server.add_user(user)
    task = web_server.create_task(web_server.scene_id(TRACKING_SCENE), user, layer=f"work-{user}")
    api = web_server.api(user)
    api.call("POST", f"/api/tasks/{task['id']}/start", {"expected_version": task["version"]})
    candidate, weak_end = _candidate_with_a_walked_weak_end(api, task)

    # The candidate confirmed from the queue (a click on its item, then Enter).
    log_in(page, user)
    page.goto(f"{web_server.url}/editor?task={task['id']}")
    expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
    page.click("[data-testid=filter-confirm_moving]")
    item = page.locator(
        f"[data-testid=guidance-queue] .list-item[data-kind=confirm_moving][data-track-id='{candidate}']"
    )
    item.locator(".label").click(timeout=GUIDANCE_TIMEOUT_MS)
    expect(item).to_have_class(re.compile(r"\bselected\b"))
    copy_id: str | None = None
    try:
        copy_id = confirm_focused(page, candidate)
        confirmed_at = frame_on_screen(page)
        walk = _walk_frames(api, task, copy_id, confirmed_at)
        assert weak_end in walk

        # The queue computed again for the copy offers to check that end.
        expect(page.locator("[data-testid=timeline-canvas]")).to_have_attribute(
            "data-proposed-lives", re.compile(rf"(^|,){copy_id}:\d+-\d+(,|$)"), timeout=GUIDANCE_TIMEOUT_MS
        )
        page.click("[data-testid=filter-check_end]")
        weak_item = _check_end_item(page, copy_id, weak_end)
        expect(weak_item).to_have_count(1)
        shot(page, "weak-end-offered")

        # Walk the keyframes with n up to that end and leave it unedited: found right, no longer offered.
        at = walk.index(weak_end)
        for frame in walk[: at + 1]:
            _next_keyframe(page, candidate, frame)
        for frame in walk[at + 1 :]:
            _next_keyframe(page, candidate, frame)
            expect(weak_item).to_have_count(0)
        assert weak_end in _memory(page, user, task["id"])[copy_id]["right"]
        shot(page, "weak-end-found-right")

        # Past the walk, n goes through the open check_end items (the focused one is listed): never
        # to that one.
        opened: list[str | None] = []
        for _ in range(page.locator("[data-testid=guidance-queue] .list-item").count() + 1):
            page.keyboard.press("n")
            expect(weak_item).to_have_count(0)
            focused = page.locator("[data-testid=guidance-queue] .list-item.selected")
            opened.append(focused.get_attribute("data-kind") if focused.count() else None)
        assert set(opened) <= {"check_end", None}, opened
        shot(page, "weak-end-skipped")
    finally:
        _take_back(api, task, candidate, copy_id or _copy_of(page, candidate))
