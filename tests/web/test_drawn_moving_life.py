"""A moving track a person drew gets a proposed life, in a real browser: a track keyed at two frames
(through the API) on a moving car is offered a life that keeps its first frame and goes on past its last
where its keyframes lead; the timeline outlines it, ``a`` accepts it (the editor extends the track, so
the server places a keyframe at the new last frame at the continued pose, and marks the life accepted),
and one ``ctrl+z`` takes it all back on the server.

Own annotator and task (own work layer) on the demo's KITTI tracking scene; the track's two keyframes
are read from a pending moving candidate of the shared candidate layer, which is left untouched. The
drawn track is deleted at the end.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

import numpy as np
from playwright.sync_api import Page, Request, expect

from tests.web.conftest import WebApi, WebServer
from tests.web.editor_support import (
    GUIDANCE_TIMEOUT_MS,
    TRACKING_SCENE,
    LogIn,
    Shot,
    layer_track,
    saved,
)

USER = "drawn-moving-life-annotator"
LAYER = f"work-{USER}"
STEP = 10
"""Frames between the drawn track's two keyframes (1 s at 10 Hz), and the most the life is carried on."""
MIN_MOTION_M = 2.0
"""How far the chosen car moves between the two keyframes: continuing visibly differs from holding."""
TOLERANCE_M = 1e-3


def _guidance(api: WebApi, scene_id: int, task_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.call("GET", f"/api/scenes/{scene_id}/guidance?task_id={task_id}")
    return items


def _proposed(api: WebApi, track_id: str, task_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.call("GET", f"/api/tracks/{track_id}/proposed-life?task_id={task_id}")
    return items


def _moving_car(
    api: WebApi, scene_id: int, task_id: int
) -> tuple[str, dict[str, Any], int, list[dict[str, Any]]]:
    """Of the pending cars the queue offers to confirm as moving, the one (and its frame F) that moves
    furthest from F to F+STEP with shapes on to F+2*STEP: (its layer, its track, F, its poses at F and
    F+STEP)."""
    offered = {
        (a["layer"], str(a["track_id"]))
        for a in _guidance(api, scene_id, task_id)
        if a["kind"] == "confirm_moving" and a["track_id"] is not None
    }
    assert offered, "the queue offers no moving candidate"
    chosen: tuple[float, str, dict[str, Any], int, list[dict[str, Any]]] | None = None
    for layer in sorted({layer for layer, _ in offered}):
        for row in api.call("GET", f"/api/scenes/{scene_id}/layers/{layer}/tracks"):
            track, shapes = row["track"], row["shapes"]
            if (layer, str(track["id"])) not in offered:
                continue
            if track["status"] != "candidate" or track["label"] != "Car":
                continue
            index = {int(f): i for i, f in enumerate(shapes["frames"])}
            for first in sorted(index):
                if first + STEP not in index or first + 2 * STEP not in index:
                    continue
                here, there = index[first], index[first + STEP]
                moved = float(np.linalg.norm(np.subtract(shapes["centers"][there], shapes["centers"][here])))
                if chosen is None or moved > chosen[0]:
                    poses = [
                        {"center": shapes["centers"][i], "quat_xyzw": shapes["quats_xyzw"][i]}
                        for i in (here, there)
                    ]
                    chosen = (moved, layer, track, first, poses)
    assert chosen is not None and chosen[0] >= MIN_MOTION_M, (
        f"no pending car moves {MIN_MOTION_M} m in {STEP} frames with shapes {STEP} frames further"
    )
    return chosen[1], chosen[2], chosen[3], chosen[4]


def _center(pose: list[float]) -> np.ndarray:
    """The translation of a stored 3x4 row-major world pose."""
    return np.asarray(pose, dtype=np.float64).reshape(3, 4)[:, 3]


def _life(track: dict[str, Any]) -> tuple[int, int]:
    return int(track["first_frame"]), int(track["last_frame"])


def _keyframes(track: dict[str, Any]) -> list[int]:
    return sorted(int(f) for f in track["keyframes"])


def _body(request: Request) -> dict[str, Any]:
    body = request.post_data_json
    assert isinstance(body, dict), (request.method, request.url, body)
    return body


def _kind_and_frame(item: dict[str, Any]) -> tuple[str, int]:
    return str(item["kind"]), int(item["frame"])


def test_a_drawn_moving_track_is_offered_a_continued_life_and_a_extends_it(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    # An annotator's own task, in progress, and a moving track they keyed at F and F+10 on a moving car.
    web_server.add_user(USER)
    scene_id = web_server.scene_id(TRACKING_SCENE)
    task = web_server.create_task(scene_id, USER, layer=LAYER)
    api = web_server.api(USER)
    task = api.call("POST", f"/api/tasks/{task['id']}/start", {"expected_version": task["version"]})
    assert task["state"] == "in_progress"
    candidate_layer, candidate, first, poses = _moving_car(api, scene_id, task["id"])
    keyed = first + STEP
    made = api.call(
        "POST",
        f"/api/scenes/{scene_id}/tracks",
        {
            "layer": LAYER,
            "label": candidate["label"],
            "size": candidate["size"],
            "keyframes": {str(first): poses[0], str(keyed): poses[1]},
            "first_frame": first,
            "last_frame": keyed,
            "task_id": task["id"],
        },
        status=201,
    )["track"]
    track_id = str(made["id"])
    assert made["stationary"] is False
    assert made["provenance"]["kind"] == "manual"
    assert _life(made) == (first, keyed)
    assert _keyframes(made) == [first, keyed]

    # Its life is proposed: the first frame stays the person's, the last goes on past F+10 (at most 10
    # frames); the full queue holds the same items.
    proposed = _proposed(api, track_id, task["id"])
    assert {a["kind"] for a in proposed} <= {"accept_life", "check_end"}, proposed
    lives = [a for a in proposed if a["kind"] == "accept_life"]
    assert len(lives) == 1, proposed
    proposal = lives[0]
    assert proposal["track_id"] == track_id
    life_first, last = proposal["life"]
    assert life_first == first
    assert keyed < last <= keyed + STEP, proposal
    assert proposal["frame"] == last
    queued = [
        a
        for a in _guidance(api, scene_id, task["id"])
        if a["track_id"] == track_id and a["kind"] in ("accept_life", "check_end")
    ]
    assert proposal in queued
    assert sorted(queued, key=_kind_and_frame) == sorted(proposed, key=_kind_and_frame)

    # Where its keyframes lead at the proposed last frame: the motion from F to F+10 continued for the
    # time from F+10 to L, in the scene's own timestamps (the server's rule).
    stamps = {
        int(f["index"]): float(f["timestamp_us"]) for f in api.call("GET", f"/api/scenes/{scene_id}/frames")
    }
    scale = (stamps[last] - stamps[keyed]) / (stamps[keyed] - stamps[first])
    c_first, c_keyed = _center(made["keyframes"][str(first)]), _center(made["keyframes"][str(keyed)])
    expected = c_keyed + (c_keyed - c_first) * scale

    sent: list[Request] = []

    def on_request(request: Request) -> None:
        path = urlparse(request.url).path
        if path == f"/api/tracks/{track_id}" or path.startswith(f"/api/tracks/{track_id}/"):
            sent.append(request)

    page.on("request", on_request)

    # The editor: list every object, select the track; the timeline outlines the proposed life.
    log_in(page, USER)
    page.goto(f"{web_server.url}/editor?task={task['id']}")
    expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
    page.click("[data-testid=object-scope]")
    row = page.locator(f"#object-list .list-item[data-kind=track][data-id='{track_id}']")
    expect(row).to_have_attribute("data-status", "confirmed")
    row.locator(".label").click()
    expect(row).to_have_class(re.compile(r"\bselected\b"))
    timeline = page.locator("[data-testid=timeline-canvas]")
    expect(timeline).to_have_attribute(
        "data-proposed-lives",
        re.compile(rf"(^|,){track_id}:{first}-{last}(,|$)"),
        timeout=GUIDANCE_TIMEOUT_MS,
    )
    shot(page, "proposed-life")

    # a accepts it: one extend to L (no life set), then the life marked accepted.
    edits = [r for r in sent if r.method != "GET"]
    assert edits == [], [(r.method, r.url) for r in edits]
    page.keyboard.press("a")
    saved(page)
    accepted_requests = [r for r in sent if r.method != "GET"]
    described = [(r.method, urlparse(r.url).path, r.post_data_json) for r in accepted_requests]
    extends = [r for r in accepted_requests if r.method == "POST" and r.url.endswith("/extend")]
    assert len(extends) == 1, described
    assert _body(extends[0])["frame"] == last, described
    assert not [r for r in accepted_requests if r.method == "PUT" and r.url.endswith("/life")], described
    patches = [r for r in accepted_requests if r.method == "PATCH"]
    assert len(patches) == 1, described
    assert _body(patches[0])["attributes"]["life_accepted"] is True, described

    accepted = layer_track(api, scene_id, LAYER, track_id)
    assert _life(accepted) == (first, last)
    assert _keyframes(accepted) == [first, keyed, last]
    placed = _center(accepted["keyframes"][str(last)])
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
    undone = layer_track(api, scene_id, LAYER, track_id)
    assert _life(undone) == (first, keyed), [(r.method, r.url) for r in sent]
    assert _keyframes(undone) == [first, keyed]
    assert undone["keyframes"] == made["keyframes"]
    assert undone["attributes"].get("life_accepted") is not True, undone["attributes"]
    shot(page, "undone")

    # The candidate is untouched; the drawn track goes, and the task's layer is as it was.
    assert layer_track(api, scene_id, candidate_layer, str(candidate["id"]))["status"] == "candidate"
    api.call("DELETE", f"/api/tracks/{track_id}?expected_version={undone['version']}&task_id={task['id']}")
    rows = api.call("GET", f"/api/scenes/{scene_id}/layers/{LAYER}/tracks")
    assert all(str(r["track"]["id"]) != track_id for r in rows)
    assert layer_track(api, scene_id, candidate_layer, str(candidate["id"]))["status"] == "candidate"
