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

import re
from typing import Any

import numpy as np
from playwright.sync_api import Page, Request, expect

from tests.web.conftest import WebApi, WebServer
from tests.web.editor_support import TRACKING_SCENE, LogIn, Shot, expect_frame, layer_track, saved

USER = "extend-annotator"
LAYER = f"work-{USER}"
STEP = 10
"""Frames between the two keyframes, and from the last keyframe to the frame extended to (1 s at 10 Hz)."""
MIN_MOTION_M = 2.0
"""How far the chosen candidate moves between its two keyframes: extending visibly differs from holding."""
TOLERANCE_M = 1e-3


def _moving_car(
    api: WebApi, scene_id: int, task_id: int
) -> tuple[str, dict[str, Any], int, list[dict[str, Any]]]:
    """The pending moving car of the queue that moves furthest between two frames STEP apart whose shapes
    go on to a frame STEP later: (its layer, its track, that first frame F, its poses at F and F+STEP)."""
    guidance = api.call("GET", f"/api/scenes/{scene_id}/guidance?task_id={task_id}")
    offered = {
        (a["layer"], a["track_id"])
        for a in guidance
        if a["kind"] == "confirm_moving" and a["track_id"] is not None
    }
    assert offered, "the queue offers no moving candidate"
    best: tuple[float, str, dict[str, Any], int, list[dict[str, Any]]] | None = None
    for layer in sorted({layer for layer, _ in offered}):
        for row in api.call("GET", f"/api/scenes/{scene_id}/layers/{layer}/tracks"):
            track, shapes = row["track"], row["shapes"]
            if (
                (layer, str(track["id"])) not in offered
                or track["status"] != "candidate"
                or track["label"] != "Car"
            ):
                continue
            at = {int(f): i for i, f in enumerate(shapes["frames"])}
            for first, i in sorted(at.items()):
                if first + STEP not in at or first + 2 * STEP not in at:
                    continue
                j = at[first + STEP]
                moved = float(np.linalg.norm(np.subtract(shapes["centers"][j], shapes["centers"][i])))
                if best is None or moved > best[0]:
                    poses = [
                        {"center": shapes["centers"][k], "quat_xyzw": shapes["quats_xyzw"][k]} for k in (i, j)
                    ]
                    best = (moved, layer, track, first, poses)
    assert best is not None and best[0] >= MIN_MOTION_M, (
        f"no candidate car moves {MIN_MOTION_M} m in {STEP} frames"
    )
    return best[1], best[2], best[3], best[4]


def _center(pose: list[float]) -> np.ndarray:
    """The translation of a stored 3x4 row-major world pose."""
    return np.asarray(pose, dtype=np.float64).reshape(3, 4)[:, 3]


def _life(track: dict[str, Any]) -> tuple[int, int]:
    return int(track["first_frame"]), int(track["last_frame"])


def _keyframes(track: dict[str, Any]) -> list[int]:
    return sorted(int(f) for f in track["keyframes"])


def test_l_extends_a_moving_track_where_its_keyframes_lead_and_undo_takes_it_back(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    # An annotator's own task, in progress, and a moving track of two keyframes 1 s apart, set through the
    # API on a moving car of the candidate layer.
    web_server.add_user(USER)
    scene_id = web_server.scene_id(TRACKING_SCENE)
    task = web_server.create_task(scene_id, USER, layer=LAYER)
    api = web_server.api(USER)
    task = api.call("POST", f"/api/tasks/{task['id']}/start", {"expected_version": task["version"]})
    assert task["state"] == "in_progress"
    candidate_layer, candidate, first, poses = _moving_car(api, scene_id, task["id"])
    keyed, target = first + STEP, first + 2 * STEP
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
    assert _life(made) == (first, keyed)
    assert _keyframes(made) == [first, keyed]

    # Where its keyframes lead at the target frame: the motion from F to F+10 continued for the time from
    # F+10 to F+20, in the scene's own timestamps (the server's rule); with evenly spaced frames that is
    # F+10's centre plus the step from F to F+10 again.
    stamps = {
        int(f["index"]): float(f["timestamp_us"]) for f in api.call("GET", f"/api/scenes/{scene_id}/frames")
    }
    scale = (stamps[target] - stamps[keyed]) / (stamps[keyed] - stamps[first])
    c_first, c_keyed = _center(made["keyframes"][str(first)]), _center(made["keyframes"][str(keyed)])
    expected = c_keyed + (c_keyed - c_first) * scale
    assert abs(scale - 1.0) < 0.05, scale

    extends: list[Request] = []

    def on_request(request: Request) -> None:
        if request.method == "POST" and request.url.endswith(f"/api/tracks/{track_id}/extend"):
            extends.append(request)

    page.on("request", on_request)

    # The editor: list every object, select the track (the view goes to its first frame).
    log_in(page, USER)
    page.goto(f"{web_server.url}/editor?task={task['id']}")
    expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
    page.click("[data-testid=object-scope]")
    row = page.locator(f"#object-list .list-item[data-kind=track][data-id='{track_id}']")
    row.locator(".label").click()
    expect(row).to_have_class(re.compile(r"\bselected\b"))
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
    extended = layer_track(api, scene_id, LAYER, track_id)
    assert _life(extended) == (first, target)
    assert _keyframes(extended) == [first, keyed, target]
    placed = _center(extended["keyframes"][str(target)])
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
    undone = layer_track(api, scene_id, LAYER, track_id)
    assert _life(undone) == (first, keyed)
    assert undone["keyframes"] == made["keyframes"]
    shot(page, "undone")

    # ctrl+shift+z: extended again, with the same box at the target frame.
    page.keyboard.press("Control+Shift+z")
    expect(page.locator("[data-testid=toast]")).to_contain_text(f"redone: extend the track to frame {target}")
    expect(row.locator(".meta")).to_have_text("3 kf")
    saved(page)
    redone = layer_track(api, scene_id, LAYER, track_id)
    assert _life(redone) == (first, target)
    assert _keyframes(redone) == [first, keyed, target]
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
    assert layer_track(api, scene_id, LAYER, track_id)["version"] == redone["version"]
    shot(page, "refused")

    # The candidate is untouched; the track goes, and the task's layer is as it was.
    assert layer_track(api, scene_id, candidate_layer, str(candidate["id"]))["status"] == "candidate"
    api.call("DELETE", f"/api/tracks/{track_id}?expected_version={redone['version']}&task_id={task['id']}")
    rows = api.call("GET", f"/api/scenes/{scene_id}/layers/{LAYER}/tracks")
    assert all(str(r["track"]["id"]) != track_id for r in rows)
