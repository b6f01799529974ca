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
from tests.web.editor_support import (
    GUIDANCE_TIMEOUT_MS,
    TRACKING_SCENE,
    LogIn,
    Shot,
    layer_track,
    saved,
)

USER = "drawn-life-annotator"
LAYER = f"work-{USER}"
DRAWN_FRAMES = 4
"""The drawn track's life: frames F to F+3."""


def _guidance(api: WebApi, scene_id: int, task_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.call("GET", f"/api/scenes/{scene_id}/guidance?task_id={task_id}")
    return items


def _proposed(api: WebApi, track_id: str, task_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.call("GET", f"/api/tracks/{track_id}/proposed-life?task_id={task_id}")
    return items


def _kind_and_frame(item: dict[str, Any]) -> tuple[str, int]:
    return str(item["kind"]), int(item["frame"])


def _parked_car(api: WebApi, scene_id: int, task_id: int) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The longest-lived pending car the queue offers to confirm as stationary: (its layer, its track,
    its shapes)."""
    offered = {
        (a["layer"], a["track_id"])
        for a in _guidance(api, scene_id, task_id)
        if a["kind"] == "confirm_stationary" and a["track_id"] is not None
    }
    assert offered, "the queue offers no stationary candidate"
    rows = [
        (layer, row["track"], row["shapes"])
        for layer in sorted({layer for layer, _ in offered})
        for row in api.call("GET", f"/api/scenes/{scene_id}/layers/{layer}/tracks")
        if (layer, str(row["track"]["id"])) in offered
        and row["track"]["status"] == "candidate"
        and row["track"]["label"] == "Car"
    ]
    assert rows, "the queue offers no parked car"
    return max(rows, key=lambda r: (r[1]["last_frame"] - r[1]["first_frame"], r[1]["id"]))


def test_a_drawn_track_marked_stationary_is_offered_a_life_and_a_accepts_it(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    # An annotator's own task, in progress, and a short moving track they drew on a parked car.
    web_server.add_user(USER)
    scene_id = web_server.scene_id(TRACKING_SCENE)
    task = web_server.create_task(scene_id, USER, layer=LAYER)
    api = web_server.api(USER)
    task = api.call("POST", f"/api/tasks/{task['id']}/start", {"expected_version": task["version"]})
    assert task["state"] == "in_progress"
    candidate_layer, candidate, shapes = _parked_car(api, scene_id, task["id"])
    first = int(candidate["first_frame"])
    assert candidate["last_frame"] >= first + DRAWN_FRAMES, candidate
    at = shapes["frames"].index(first)
    pose = {"center": shapes["centers"][at], "quat_xyzw": shapes["quats_xyzw"][at]}
    drawn = api.call(
        "POST",
        f"/api/scenes/{scene_id}/tracks",
        {
            "layer": LAYER,
            "label": candidate["label"],
            "size": candidate["size"],
            "keyframes": {str(first): pose},
            "first_frame": first,
            "last_frame": first + DRAWN_FRAMES - 1,
            "task_id": task["id"],
        },
        status=201,
    )["track"]
    track_id = str(drawn["id"])
    assert drawn["stationary"] is False
    assert (drawn["first_frame"], drawn["last_frame"]) == (first, first + DRAWN_FRAMES - 1)
    # A moving track a person drew: its life is the person's, nothing is proposed.
    assert _proposed(api, track_id, task["id"]) == []

    # The editor: list every object, select the drawn track, s marks it stationary.
    log_in(page, USER)
    page.goto(f"{web_server.url}/editor?task={task['id']}")
    expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
    page.click("[data-testid=object-scope]")
    row = page.locator(f"#object-list .list-item[data-kind=track][data-id='{track_id}']")
    expect(row).to_have_attribute("data-status", "confirmed")
    row.locator(".label").click()
    expect(row).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("s")
    expect(row).to_have_attribute("data-status", "stationary")
    saved(page)
    stationary = layer_track(api, scene_id, LAYER, track_id)
    assert stationary["stationary"] is True
    assert (stationary["first_frame"], stationary["last_frame"]) == (first, first + DRAWN_FRAMES - 1)

    # Its one world box is carried on past its last frame: the first frame stays the person's, and the
    # queue (computed again after the edit) and the timeline offer the same life.
    proposed = _proposed(api, track_id, task["id"])
    proposal = next(a for a in proposed if a["kind"] == "accept_life")
    assert proposal["track_id"] == track_id
    life_first, last = proposal["life"]
    assert life_first == first
    assert last > first + DRAWN_FRAMES - 1
    assert proposal["frame"] == last
    assert {a["kind"] for a in proposed} <= {"accept_life", "check_end"}
    queued = [
        a
        for a in _guidance(api, scene_id, task["id"])
        if a["track_id"] == track_id and a["kind"] in ("accept_life", "check_end")
    ]
    assert sorted(queued, key=_kind_and_frame) == sorted(proposed, key=_kind_and_frame)
    timeline = page.locator("[data-testid=timeline-canvas]")
    expect(timeline).to_have_attribute(
        "data-proposed-lives",
        re.compile(rf"(^|,){track_id}:{first}-{last}(,|$)"),
        timeout=GUIDANCE_TIMEOUT_MS,
    )
    shot(page, "proposed-life")

    # a accepts it: the API has that life, and offers at most a life carried on past the new end.
    expect(row).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("a")
    saved(page)
    accepted = layer_track(api, scene_id, LAYER, track_id)
    assert (accepted["first_frame"], accepted["last_frame"]) == (first, last)
    assert accepted["stationary"] is True
    assert accepted["attributes"]["life_accepted"] is True
    further = [a["life"] for a in _proposed(api, track_id, task["id"]) if a["kind"] == "accept_life"]
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
    api.call("DELETE", f"/api/tracks/{track_id}?expected_version={accepted['version']}&task_id={task['id']}")
    rows = api.call("GET", f"/api/scenes/{scene_id}/layers/{LAYER}/tracks")
    assert all(str(r["track"]["id"]) != track_id for r in rows)
