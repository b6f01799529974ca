"""Where the end search opens first, in a real browser, on a track a person drew: searching past its
last frame (``e`` at the scene's last frame) opens the frame just past it, where tracks mostly end;
searching before its first frame (``e`` at frame 0) opens the middle of the bracket, since a person
draws an object where they first found it, which says nothing about where it starts. Escape stops
each search without an edit.

Own annotator and task (own work layer) on the demo's KITTI tracking scene; the track's keyframes are
read from a pending moving candidate of the shared candidate layer, which is left untouched. The track
is deleted at the end.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.web.conftest import WebServer
from tests.web.drawn_tracks import (
    delete_track,
    keyed_moving_track,
    select_in_editor,
    started_task,
    track_life,
)
from tests.web.editor_support import LogIn, Shot, expect_frame, layer_track

USER = "end-search-annotator"
STEP = 10
MIN_MOTION_M = 2.0


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
