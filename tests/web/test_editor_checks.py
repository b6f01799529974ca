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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import Locator, Page, Request, expect
from sqlalchemy.orm import Session

from labelpilot.guidance.checks import (
    DEFAULT_LIMIT_SECONDS,
    CheckLimits,
    Judged,
    next_check,
    supported_frames,
)
from labelpilot.services.codec import StoredKeyframe, track_from_rows
from labelpilot.services.track_edit_store import load_track
from labelpilot.settings import Settings
from labelpilot.store.db import make_engine, make_session_factory
from labelpilot.tracks import Keyframed, Track
from tests.web.conftest import WebApi, WebServer

Shot = Callable[[Page, str], Path]
LogIn = Callable[[Page, str], None]

TRACKING_SCENE = "KITTI tracking 0001"
CANDIDATE_LAYER = "candidates:auto:pointrcnn"
GUIDANCE_TIMEOUT_MS = 60_000
MAX_CHECKS = 80
"""More presses of the check key than any KITTI candidate needs (a bound, so a bug cannot loop)."""


@pytest.fixture
def stored_track(web_server: WebServer) -> Iterator[Callable[[int], Track]]:
    """``stored_track(id)``: the track as the server's database holds it now (with its detections)."""
    engine = make_engine(Settings(home=web_server.home).resolved_database_url)
    factory = make_session_factory(engine)

    def read(track_id: int) -> Track:
        with factory() as session:
            return _domain(session, track_id)

    yield read
    engine.dispose()


def _domain(session: Session, track_id: int) -> Track:
    loaded = load_track(session, track_id)
    return track_from_rows(loaded.row, [StoredKeyframe(f, p) for f, p in sorted(loaded.keyframes.items())])


def _frame(page: Page) -> int:
    text = page.locator("#frame-counter").inner_text()
    match = re.fullmatch(r"frame (\d+) / \d+", text.strip())
    assert match, text
    return int(match.group(1))


def _at(page: Page, frame: int) -> None:
    expect(page.locator("#frame-counter")).to_have_text(re.compile(rf"frame {frame} / "))


def _saved(page: Page) -> None:
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")


def _period_s(api: WebApi, scene_id: int) -> float:
    stamps = [f["timestamp_us"] for f in api.call("GET", f"/api/scenes/{scene_id}/frames")]
    return float(np.median(np.diff(np.asarray(stamps, dtype=np.float64)))) / 1e6


def _track(api: WebApi, scene_id: int, layer: str, track_id: str) -> dict[str, Any]:
    rows = api.call("GET", f"/api/scenes/{scene_id}/layers/{layer}/tracks")
    return dict(next(row["track"] for row in rows if str(row["track"]["id"]) == track_id))


def _candidate_status(api: WebApi, scene_id: int, candidate: str) -> str:
    return str(_track(api, scene_id, CANDIDATE_LAYER, candidate)["status"])


def _open_and_confirm(
    page: Page, web_server: WebServer, log_in: LogIn, user: str, *, longest: bool = False
) -> tuple[dict[str, Any], str, str]:
    """A fresh annotator's own task open in the editor and a moving candidate of the queue confirmed
    (Enter) with its copy selected: the first one (``n``), or with ``longest`` the one of the listed
    items that lives longest (a click on it). Answers (task, candidate id, copy id)."""
    web_server.add_user(user)
    task = web_server.create_task(web_server.scene_id(TRACKING_SCENE), user, layer=f"work-{user}")
    log_in(page, user)
    page.goto(f"{web_server.url}/editor?task={task['id']}")
    expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
    expect(page.locator("[data-testid=guidance-queue] .list-item").first).to_be_visible(
        timeout=GUIDANCE_TIMEOUT_MS
    )
    page.click("[data-testid=filter-confirm_moving]")
    items = page.locator("[data-testid=guidance-queue] .list-item[data-kind=confirm_moving]")
    if longest:
        listed = [str(i) for i in items.evaluate_all("items => items.map(i => i.dataset.trackId)")]
        rows = web_server.api(user).call(
            "GET", f"/api/scenes/{task['scene_id']}/layers/{CANDIDATE_LAYER}/tracks"
        )
        lives = {str(r["track"]["id"]): r["track"]["last_frame"] - r["track"]["first_frame"] for r in rows}
        chosen = max(listed, key=lambda i: (lives[i], i))
        items.and_(page.locator(f"[data-track-id='{chosen}']")).locator(".label").click()
    else:
        page.keyboard.press("n")
    focused = page.locator("[data-testid=guidance-queue] .list-item.selected")
    expect(focused).to_have_attribute("data-kind", "confirm_moving")
    candidate = focused.get_attribute("data-track-id")
    assert candidate is not None
    page.keyboard.press("Enter")
    copy = _copy_row(page, candidate)
    expect(copy).to_have_attribute("data-status", "confirmed")
    _saved(page)
    copy_id = copy.get_attribute("data-id")
    assert copy_id is not None and copy_id.isdigit()
    expect(copy).to_have_class(re.compile(r"\bselected\b"))
    return task, candidate, copy_id


def _copy_row(page: Page, candidate: str) -> Locator:
    return page.locator(f"#object-list .list-item[data-kind=track][data-key='candidate-{candidate}']")


def _is_next_check(track_id: str) -> Callable[[Request], bool]:
    return lambda r: r.method == "POST" and r.url.endswith(f"/api/tracks/{track_id}/next-check")


def _undo_all(page: Page, api: WebApi, scene_id: int, candidate: str, steps: int) -> None:
    for _ in range(steps):
        page.keyboard.press("Control+z")
        _saved(page)
    expect(_copy_row(page, candidate)).to_have_count(0)
    assert _candidate_status(api, scene_id, candidate) == "candidate"


def test_the_c_key_opens_the_frames_the_rule_gives_until_the_track_is_checked(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot, stored_track: Callable[[int], Track]
) -> None:
    user = "checks-walk"
    task, candidate, copy_id = _open_and_confirm(page, web_server, log_in, user, longest=True)
    api = web_server.api(user)
    scene_id = task["scene_id"]
    limits = CheckLimits.from_seconds(*DEFAULT_LIMIT_SECONDS, _period_s(api, scene_id))
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
        here = _frame(page)
        looked.add(here)
        if not edited_here:
            right.add(here)
        with page.expect_request(_is_next_check(copy_id)) as sent:
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
        _saved(page)
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
        _at(page, expected.frame)
        expect(page.locator("[data-testid=check-status]")).to_contain_text(expected.reason)
        expect(_copy_row(page, candidate)).to_have_class(re.compile(r"\bselected\b"))
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
    _undo_all(page, api, scene_id, candidate, steps=1 + kept)


def test_end_search_stride_and_not_here_edit_the_life_one_undo_step_each(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    user = "checks-ends"
    task, candidate, copy_id = _open_and_confirm(page, web_server, log_in, user)
    api = web_server.api(user)
    scene_id = task["scene_id"]
    layer = task["layer"]
    frame_count = len(api.call("GET", f"/api/scenes/{scene_id}/frames"))
    stride = round(1 / _period_s(api, scene_id))
    assert stride > 1
    before = _track(api, scene_id, layer, copy_id)
    first, last = before["first_frame"], before["last_frame"]

    # shift+arrows: one second of frames.
    page.keyboard.press("Home")
    _at(page, 0)
    page.keyboard.press("Shift+ArrowRight")
    _at(page, stride)
    page.keyboard.press("Shift+ArrowRight")
    _at(page, 2 * stride)
    page.keyboard.press("Shift+ArrowLeft")
    _at(page, stride)

    # e from outside the life, where the object is gone; y/t answer an object that really ends a third
    # of the way to the scene's end (or, for a track that reaches it, starts a third of the way back).
    if last < frame_count - 1:
        outside, true_end = frame_count - 1, last + (frame_count - 1 - last) // 3
        page.keyboard.press("End")
    else:
        assert first > 0
        outside, true_end = 0, first - first // 3
        page.keyboard.press("Home")
    _at(page, outside)
    status = page.locator("[data-testid=check-status]")
    page.keyboard.press("e")  # Escape stops a search: nothing changes
    expect(status).to_have_attribute("data-bracket", re.compile(r"^\d+-\d+$"))
    page.keyboard.press("Escape")
    expect(status).not_to_have_attribute("data-bracket", re.compile(r"."))
    assert _track(api, scene_id, layer, copy_id)["version"] == before["version"]
    expect(_copy_row(page, candidate)).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("Home" if outside == 0 else "End")
    _at(page, outside)
    page.keyboard.press("e")
    presses = 0
    while status.get_attribute("data-bracket") is not None and presses < MAX_CHECKS:
        frame = _frame(page)
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
    _saved(page)
    found = (first, true_end) if outside > last else (true_end, last)
    after = _track(api, scene_id, layer, copy_id)
    assert (after["first_frame"], after["last_frame"]) == found
    assert after["version"] == before["version"] + 1  # one edit
    _at(page, true_end)
    shot(page, "end-found")

    page.keyboard.press("Control+z")
    _saved(page)
    undone = _track(api, scene_id, layer, copy_id)
    assert (undone["first_frame"], undone["last_frame"]) == (first, last)

    # shift+x at the last frame (the check key opens the first end, then the last): trimmed to the
    # nearest frame with a box.
    for end in (first, last):
        with page.expect_response(lambda r: _is_next_check(copy_id)(r.request)):
            page.keyboard.press("c")
        _at(page, end)
    absent = set(undone["absent_frames"])
    nearest = max(f for f in range(first, last) if f not in absent)
    page.keyboard.press("Shift+x")
    _saved(page)
    trimmed = _track(api, scene_id, layer, copy_id)
    assert (trimmed["first_frame"], trimmed["last_frame"]) == (first, nearest)
    shot(page, "trimmed")

    page.keyboard.press("Control+z")
    _saved(page)
    restored = _track(api, scene_id, layer, copy_id)
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
    _at(page, first)
    page.keyboard.press("Shift+ArrowRight")
    _at(page, inside)
    page.keyboard.press("Shift+x")
    _saved(page)
    marked = _track(api, scene_id, layer, copy_id)
    assert inside in marked["absent_frames"] and str(inside) not in marked["keyframes"]
    assert (marked["first_frame"], marked["last_frame"]) == (first, last)
    page.keyboard.press("Control+z")
    _saved(page)
    back = _track(api, scene_id, layer, copy_id)
    assert back["absent_frames"] == restored["absent_frames"] and back["keyframes"] == restored["keyframes"]

    # Undo the confirmation: the candidate is pending again.
    _undo_all(page, api, scene_id, candidate, steps=1)
