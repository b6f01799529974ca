"""Extending a moving track past its end in a real browser: ``l`` at a frame after the track's life
extends the life to that frame, and the box there goes on where its keyframes lead (a keyframe the
server places at constant velocity); ``ctrl+z`` takes the extension back on the server (the keyframe
and the longer life), ``ctrl+shift+z`` extends again. ``l`` at a frame inside the life is refused and
sends nothing.

Own annotator and task (own work layer) on the demo's KITTI tracking scene; the track's two keyframes
are read from a pending moving candidate of the shared candidate layer, which is left untouched. The
track is deleted at the end.
"""

from __future__ import annotations

import numpy as np
from playwright.sync_api import Page, Request, expect

from tests.web.conftest import WebServer
from tests.web.drawn_tracks import (
    center,
    continued_center,
    delete_track,
    keyed_moving_track,
    keyframe_frames,
    select_in_editor,
    started_task,
    track_life,
)
from tests.web.editor_support import LogIn, Shot, expect_frame, layer_track, saved

USER = "extend-annotator"
STEP = 10
"""Frames between the two keyframes, and from the last keyframe to the frame extended to (1 s at 10 Hz)."""
MIN_MOTION_M = 2.0
"""How far the chosen candidate moves between its two keyframes: extending visibly differs from holding."""
TOLERANCE_M = 1e-3


def test_l_extends_a_moving_track_where_its_keyframes_lead_and_undo_takes_it_back(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    # An annotator's own task, in progress, and a moving track of two keyframes 1 s apart, set through the
    # API on a moving car of the candidate layer.
    api, scene_id, task = started_task(web_server, USER)
    candidate_layer, candidate, made = keyed_moving_track(api, scene_id, task, STEP, MIN_MOTION_M)
    first, keyed = track_life(made)
    target = keyed + STEP
    track_id = str(made["id"])
    c_first, c_keyed = center(made["keyframes"][str(first)]), center(made["keyframes"][str(keyed)])
    expected = continued_center(api, scene_id, made, (first, keyed, target))

    extends: list[Request] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and request.url.endswith(f"/api/tracks/{track_id}/extend"):
            extends.append(request)

    page.on("request", on_request)

    # The editor: list every object, select the track (the view goes to its first frame).
    row = select_in_editor(page, web_server, log_in, USER, task["id"], track_id)
    expect_frame(page, first)
    expect(row.locator(".meta")).to_have_text("2 kf")

    # Two scan strides on (1 s each), past the last frame: l extends the track to here.
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    expect_frame(page, target)
    page.keyboard.press("l")
    expect(row.locator(".meta")).to_have_text("3 kf")
    saved(page)
    assert len(extends) == 1
    extended = layer_track(api, scene_id, task["layer"], track_id)
    assert track_life(extended) == (first, target)
    assert keyframe_frames(extended) == [first, keyed, target]
    placed = center(extended["keyframes"][str(target)])
    assert np.linalg.norm(placed - expected) < TOLERANCE_M, (placed, expected)
    # Not held: the box moved on about as far as between the keyframes.
    assert np.linalg.norm(placed - c_keyed) > 0.9 * np.linalg.norm(c_keyed - c_first)
    assert extended["keyframes"][str(first)] == made["keyframes"][str(first)]
    assert extended["keyframes"][str(keyed)] == made["keyframes"][str(keyed)]
    shot(page, "extended")

    # ctrl+z: the life and the keyframes as they were, on the server.
    page.keyboard.press("Control+z")
    expect(page.locator("[data-testid=toast]")).to_contain_text(f"undone: extend the track to frame {target}")
    expect(row.locator(".meta")).to_have_text("2 kf")
    saved(page)
    undone = layer_track(api, scene_id, task["layer"], track_id)
    assert track_life(undone) == (first, keyed)
    assert undone["keyframes"] == made["keyframes"]
    shot(page, "undone")

    # ctrl+shift+z: extended again, with the same box at the target frame.
    page.keyboard.press("Control+Shift+z")
    expect(page.locator("[data-testid=toast]")).to_contain_text(f"redone: extend the track to frame {target}")
    expect(row.locator(".meta")).to_have_text("3 kf")
    saved(page)
    redone = layer_track(api, scene_id, task["layer"], track_id)
    assert track_life(redone) == (first, target)
    assert keyframe_frames(redone) == [first, keyed, target]
    np.testing.assert_allclose(
        redone["keyframes"][str(target)], extended["keyframes"][str(target)], atol=1e-9
    )
    shot(page, "redone")

    # l inside the life (back one scan stride) is refused: a notice, no request, the track as it was.
    page.keyboard.press("Shift+ArrowLeft")
    expect_frame(page, keyed)
    page.keyboard.press("l")
    expect(page.locator("[data-testid=toast]")).to_contain_text("this frame is inside the track's life")
    assert len(extends) == 1
    assert layer_track(api, scene_id, task["layer"], track_id)["version"] == redone["version"]
    shot(page, "refused")

    # The candidate is untouched; the track goes, and the task's layer is as it was.
    assert layer_track(api, scene_id, candidate_layer, str(candidate["id"]))["status"] == "candidate"
    delete_track(api, scene_id, task, redone)
