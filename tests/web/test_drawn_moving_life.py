"""A moving track a person drew gets a proposed life, in a real browser: a track keyed at two frames
(through the API) on a moving car is offered a life that keeps its first frame and goes on past its last
where its keyframes lead; the timeline outlines it, ``a`` accepts it (one request: the server extends
the track, placing a keyframe at the new last frame at the continued pose, and marks the life
accepted), and one ``ctrl+z`` takes it all back on the server.

Own annotator and task (own work layer) on the demo's KITTI tracking scene; the track's two keyframes
are read from a pending moving candidate of the shared candidate layer, which is left untouched. The
drawn track is deleted at the end.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import numpy as np
from playwright.sync_api import Page, Request, expect

from tests.web.conftest import WebServer
from tests.web.drawn_tracks import (
    center,
    continued_center,
    delete_track,
    keyed_moving_track,
    keyframe_frames,
    kind_and_frame,
    proposed,
    select_in_editor,
    started_task,
    track_life,
)
from tests.web.editor_support import (
    LogIn,
    Shot,
    expect_proposed_life,
    guidance,
    layer_track,
    saved,
)

USER = "drawn-moving-life-annotator"
STEP = 10
"""Frames between the drawn track's two keyframes (1 s at 10 Hz), and the most the life is carried on."""
MIN_MOTION_M = 2.0
"""How far the chosen car moves between the two keyframes: continuing visibly differs from holding."""
TOLERANCE_M = 1e-3


def _body(request: Request) -> dict[str, Any]:
    body = request.post_data_json
    assert isinstance(body, dict), (request.method, request.url, body)
    return body


def test_a_drawn_moving_track_is_offered_a_continued_life_and_a_extends_it(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    # An annotator's own task, in progress, and a moving track they keyed at F and F+10 on a moving car.
    api, scene_id, task = started_task(web_server, USER)
    candidate_layer, candidate, made = keyed_moving_track(api, scene_id, task, STEP, MIN_MOTION_M)
    first, keyed = track_life(made)
    track_id = str(made["id"])

    # Its life is proposed: the first frame stays the person's, the last goes on past F+10 (at most 10
    # frames); the full queue holds the same items.
    items = proposed(api, track_id, task["id"])
    assert {a["kind"] for a in items} <= {"accept_life", "check_end"}, items
    lives = [a for a in items if a["kind"] == "accept_life"]
    assert len(lives) == 1, items
    proposal = lives[0]
    assert proposal["track_id"] == track_id
    life_first, last = proposal["life"]
    assert life_first == first
    assert keyed < last <= keyed + STEP, proposal
    assert proposal["frame"] == last
    queued = [
        a
        for a in guidance(api, scene_id, task["id"])
        if a["track_id"] == track_id and a["kind"] in ("accept_life", "check_end")
    ]
    assert proposal in queued
    assert sorted(queued, key=kind_and_frame) == sorted(items, key=kind_and_frame)

    # Where its keyframes lead at the proposed last frame (the server's rule).
    expected = continued_center(api, scene_id, made, (first, keyed, last))

    sent: list[Request] = []

    def on_request(request: Request) -> None:
        path = urlparse(request.url).path
        if path == f"/api/tracks/{track_id}" or path.startswith(f"/api/tracks/{track_id}/"):
            sent.append(request)

    page.on("request", on_request)

    # The editor: list every object, select the track; the timeline outlines the proposed life.
    select_in_editor(page, web_server, log_in, USER, task["id"], track_id)
    expect_proposed_life(page, track_id, first, last)
    shot(page, "proposed-life")

    # a accepts it: one request (the server continues the track to L and marks the life accepted).
    edits = [r for r in sent if r.method != "GET"]
    assert edits == [], [(r.method, r.url) for r in edits]
    page.keyboard.press("a")
    saved(page)
    accepted_requests = [r for r in sent if r.method != "GET"]
    described = [(r.method, urlparse(r.url).path, r.post_data_json) for r in accepted_requests]
    assert [(r.method, urlparse(r.url).path) for r in accepted_requests] == [
        ("POST", f"/api/tracks/{track_id}/accept-life")
    ], described
    body = _body(accepted_requests[0])
    assert (body["first_frame"], body["last_frame"]) == (first, last), described

    accepted = layer_track(api, scene_id, task["layer"], track_id)
    assert track_life(accepted) == (first, last)
    assert keyframe_frames(accepted) == [first, keyed, last]
    placed = center(accepted["keyframes"][str(last)])
    c_keyed = center(made["keyframes"][str(keyed)])
    assert np.linalg.norm(placed - expected) < TOLERANCE_M, (placed, expected)
    # Carried on, not held at the last keyframe.
    assert np.linalg.norm(placed - c_keyed) > 0.5 * np.linalg.norm(expected - c_keyed)
    assert accepted["keyframes"][str(first)] == made["keyframes"][str(first)]
    assert accepted["keyframes"][str(keyed)] == made["keyframes"][str(keyed)]
    assert accepted["attributes"]["life_accepted"] is True
    shot(page, "life-accepted")

    # ctrl+z once: the life and the keyframes as they were, on the server.
    sent.clear()
    page.keyboard.press("Control+z")
    expect(page.locator("[data-testid=toast]")).to_contain_text(f"undone: live from frame {first} to {last}")
    saved(page)
    undone = layer_track(api, scene_id, task["layer"], track_id)
    assert track_life(undone) == (first, keyed), [(r.method, r.url) for r in sent]
    assert keyframe_frames(undone) == [first, keyed]
    assert undone["keyframes"] == made["keyframes"]
    assert undone["attributes"].get("life_accepted") is not True, undone["attributes"]
    shot(page, "undone")

    # The candidate is untouched; the drawn track goes, and the task's layer is as it was.
    assert layer_track(api, scene_id, candidate_layer, str(candidate["id"]))["status"] == "candidate"
    delete_track(api, scene_id, task, undone)
    assert layer_track(api, scene_id, candidate_layer, str(candidate["id"]))["status"] == "candidate"
