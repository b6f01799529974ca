"""A stationary track a person drew gets a proposed life, in a real browser: a short moving track drawn
(through the API) on a parked car has none; ``s`` marks it stationary, the queue is computed again and
the timeline outlines the life its one world box is carried on to; ``a`` accepts it, and the API then
has that life (and offers no more than a life carried on past the new end).

Own annotator and task (own work layer) on the demo's KITTI tracking scene; the parked car's box is
read from a pending stationary candidate of the shared candidate layer, which is left untouched. The
drawn track is deleted at the end.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.web.conftest import WebApi, WebServer
from tests.web.drawn_tracks import (
    delete_track,
    draw_track,
    kind_and_frame,
    offered_cars,
    proposed,
    select_in_editor,
    started_task,
)
from tests.web.editor_support import (
    GUIDANCE_TIMEOUT_MS,
    LogIn,
    Shot,
    expect_proposed_life,
    guidance,
    layer_track,
    saved,
)

USER = "drawn-life-annotator"
DRAWN_FRAMES = 4
"""The drawn track's life: frames F to F+3."""


def _parked_car(api: WebApi, scene_id: int, task_id: int) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The longest-lived pending car the queue offers to confirm as stationary: (its layer, its track,
    its shapes)."""
    rows = offered_cars(api, scene_id, task_id, "confirm_stationary")
    assert rows, "the queue offers no parked car"
    return max(rows, key=lambda r: (r[1]["last_frame"] - r[1]["first_frame"], r[1]["id"]))


def test_a_drawn_track_marked_stationary_is_offered_a_life_and_a_accepts_it(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    # An annotator's own task, in progress, and a short moving track they drew on a parked car.
    api, scene_id, task = started_task(web_server, USER)
    candidate_layer, candidate, shapes = _parked_car(api, scene_id, task["id"])
    first = int(candidate["first_frame"])
    assert candidate["last_frame"] >= first + DRAWN_FRAMES, candidate
    at = shapes["frames"].index(first)
    pose = {"center": shapes["centers"][at], "quat_xyzw": shapes["quats_xyzw"][at]}
    drawn = draw_track(api, scene_id, task, candidate, {first: pose}, (first, first + DRAWN_FRAMES - 1))
    track_id = str(drawn["id"])
    # A moving track a person keyed once: no motion to continue, nothing is proposed.
    assert proposed(api, track_id, task["id"]) == []

    # The editor: list every object, select the drawn track, s marks it stationary.
    row = select_in_editor(page, web_server, log_in, USER, task["id"], track_id)
    page.keyboard.press("s")
    expect(row).to_have_attribute("data-status", "stationary")
    saved(page)
    stationary = layer_track(api, scene_id, task["layer"], track_id)
    assert stationary["stationary"] is True
    assert (stationary["first_frame"], stationary["last_frame"]) == (first, first + DRAWN_FRAMES - 1)

    # Its one world box is carried on past its last frame: the first frame stays the person's, and the
    # queue (computed again after the edit) and the timeline offer the same life.
    items = proposed(api, track_id, task["id"])
    proposal = next(a for a in items if a["kind"] == "accept_life")
    assert proposal["track_id"] == track_id
    life_first, last = proposal["life"]
    assert life_first == first
    assert last > first + DRAWN_FRAMES - 1
    assert proposal["frame"] == last
    assert {a["kind"] for a in items} <= {"accept_life", "check_end"}
    queued = [
        a
        for a in guidance(api, scene_id, task["id"])
        if a["track_id"] == track_id and a["kind"] in ("accept_life", "check_end")
    ]
    assert sorted(queued, key=kind_and_frame) == sorted(items, key=kind_and_frame)
    timeline = expect_proposed_life(page, track_id, first, last)
    shot(page, "proposed-life")

    # a accepts it: the API has that life, and offers at most a life carried on past the new end.
    expect(row).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("a")
    saved(page)
    accepted = layer_track(api, scene_id, task["layer"], track_id)
    assert (accepted["first_frame"], accepted["last_frame"]) == (first, last)
    assert accepted["stationary"] is True
    assert accepted["attributes"]["life_accepted"] is True
    further = [a["life"] for a in proposed(api, track_id, task["id"]) if a["kind"] == "accept_life"]
    assert all(life[0] == first and life[1] > last for life in further), further
    shown = rf"{track_id}:{further[0][0]}-{further[0][1]}" if further else rf"{track_id}:\d+-\d+"
    expect(timeline).to_have_attribute(
        "data-proposed-lives",
        re.compile(rf"(^|,){shown}(,|$)") if further else re.compile(rf"^(?!(.*,)?{shown}(,|$))"),
        timeout=GUIDANCE_TIMEOUT_MS,
    )
    shot(page, "life-accepted")
    assert layer_track(api, scene_id, candidate_layer, str(candidate["id"]))["status"] == "candidate"

    # The drawn track goes: the task's layer is as it was.
    delete_track(api, scene_id, task, accepted)
