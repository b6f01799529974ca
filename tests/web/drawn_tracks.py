"""What the browser tests of tracks a person drew share: an annotator's own task in progress on the demo's
KITTI tracking scene, a track drawn there through the API from a pending candidate's boxes, reading it
back, and the editor opened with it selected. The candidates are only read, never changed."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from playwright.sync_api import Locator, Page, expect

from tests.web.conftest import WebApi, WebServer
from tests.web.editor_support import TRACKING_SCENE, LogIn, guidance


def started_task(web_server: WebServer, user: str) -> tuple[WebApi, int, dict[str, Any]]:
    """``user``'s own task (layer ``work-<user>``), started: (their API, the scene id, the task)."""
    web_server.add_user(user)
    scene_id = web_server.scene_id(TRACKING_SCENE)
    task = web_server.create_task(scene_id, user, layer=f"work-{user}")
    api = web_server.api(user)
    task = api.call("POST", f"/api/tasks/{task['id']}/start", {"expected_version": task["version"]})
    assert task["state"] == "in_progress"
    return api, scene_id, task


def proposed(api: WebApi, track_id: str, task_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.call("GET", f"/api/tracks/{track_id}/proposed-life?task_id={task_id}")
    return items


def kind_and_frame(item: dict[str, Any]) -> tuple[str, int]:
    return str(item["kind"]), int(item["frame"])


def offered_cars(
    api: WebApi, scene_id: int, task_id: int, kind: str
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The pending cars the queue offers with ``kind``: (their layer, track, shapes)."""
    offered = {
        (a["layer"], str(a["track_id"]))
        for a in guidance(api, scene_id, task_id)
        if a["kind"] == kind and a["track_id"] is not None
    }
    assert offered, f"the queue offers no {kind} item"
    return [
        (layer, row["track"], row["shapes"])
        for layer in sorted({layer for layer, _ in offered})
        for row in api.call("GET", f"/api/scenes/{scene_id}/layers/{layer}/tracks")
        if (layer, str(row["track"]["id"])) in offered
        and row["track"]["status"] == "candidate"
        and row["track"]["label"] == "Car"
    ]


def moving_car(
    api: WebApi, scene_id: int, task_id: int, step: int, min_motion_m: float
) -> tuple[str, dict[str, Any], int, list[dict[str, Any]]]:
    """Of the pending cars the queue offers to confirm as moving, the one (and its frame F) that moves
    furthest from F to F+step with shapes on to F+2*step: (its layer, its track, F, its poses at F and
    F+step)."""
    chosen: tuple[float, str, dict[str, Any], int, list[dict[str, Any]]] | None = None
    for layer, track, shapes in offered_cars(api, scene_id, task_id, "confirm_moving"):
        index = {int(f): i for i, f in enumerate(shapes["frames"])}
        for first, here in sorted(index.items()):
            if first + step not in index or first + 2 * step not in index:
                continue
            there = index[first + step]
            moved = float(np.linalg.norm(np.subtract(shapes["centers"][there], shapes["centers"][here])))
            if chosen is None or moved > chosen[0]:
                poses = [
                    {"center": shapes["centers"][i], "quat_xyzw": shapes["quats_xyzw"][i]}
                    for i in (here, there)
                ]
                chosen = (moved, layer, track, first, poses)
    assert chosen is not None and chosen[0] >= min_motion_m, (
        f"no pending car moves {min_motion_m} m in {step} frames with shapes {step} frames further"
    )
    return chosen[1], chosen[2], chosen[3], chosen[4]


def draw_track(
    api: WebApi,
    scene_id: int,
    task: dict[str, Any],
    candidate: dict[str, Any],
    keyframes: dict[int, dict[str, Any]],
    life: tuple[int, int],
) -> dict[str, Any]:
    """A moving track of the task's layer, as a person draws it: the candidate's class and size, keyed at
    ``keyframes`` (frame -> pose), living ``life``."""
    made: dict[str, Any] = api.call(
        "POST",
        f"/api/scenes/{scene_id}/tracks",
        {
            "layer": task["layer"],
            "label": candidate["label"],
            "size": candidate["size"],
            "keyframes": {str(f): pose for f, pose in keyframes.items()},
            "first_frame": life[0],
            "last_frame": life[1],
            "task_id": task["id"],
        },
        status=201,
    )["track"]
    assert made["stationary"] is False and made["provenance"]["kind"] == "manual"
    assert track_life(made) == life and keyframe_frames(made) == sorted(keyframes)
    return made


def keyed_moving_track(
    api: WebApi, scene_id: int, task: dict[str, Any], step: int, min_motion_m: float
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A moving track a person keyed on the queue's furthest-moving car (``moving_car``) at its frame F
    and F+step, living F..F+step: (the car's layer, the car, the track)."""
    layer, candidate, first, poses = moving_car(api, scene_id, task["id"], step, min_motion_m)
    keyframes = {first: poses[0], first + step: poses[1]}
    return layer, candidate, draw_track(api, scene_id, task, candidate, keyframes, (first, first + step))


def center(pose: list[float]) -> np.ndarray:
    """The translation of a stored 3x4 row-major world pose."""
    return np.asarray(pose, dtype=np.float64).reshape(3, 4)[:, 3]


def continued_center(
    api: WebApi, scene_id: int, track: dict[str, Any], frames: tuple[int, int, int]
) -> np.ndarray:
    """Where the motion between the track's keyframes at ``frames[0]`` and ``frames[1]`` leads at
    ``frames[2]``, in the scene's own timestamps (the server's rule)."""
    stamps = {
        int(f["index"]): float(f["timestamp_us"]) for f in api.call("GET", f"/api/scenes/{scene_id}/frames")
    }
    first, keyed, target = frames
    scale = (stamps[target] - stamps[keyed]) / (stamps[keyed] - stamps[first])
    c_first, c_keyed = center(track["keyframes"][str(first)]), center(track["keyframes"][str(keyed)])
    continued: np.ndarray = c_keyed + (c_keyed - c_first) * scale
    return continued


def track_life(track: dict[str, Any]) -> tuple[int, int]:
    return int(track["first_frame"]), int(track["last_frame"])


def keyframe_frames(track: dict[str, Any]) -> list[int]:
    return sorted(int(f) for f in track["keyframes"])


def select_in_editor(
    page: Page, web_server: WebServer, log_in: LogIn, user: str, task_id: int, track_id: str
) -> Locator:
    """Log in, open the task in the editor, list every object and select the track: its row."""
    log_in(page, user)
    page.goto(f"{web_server.url}/editor?task={task_id}")
    expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
    page.click("[data-testid=object-scope]")
    row = page.locator(f"#object-list .list-item[data-kind=track][data-id='{track_id}']")
    expect(row).to_have_attribute("data-status", "confirmed")
    row.locator(".label").click()
    expect(row).to_have_class(re.compile(r"\bselected\b"))
    return row


def delete_track(api: WebApi, scene_id: int, task: dict[str, Any], track: dict[str, Any]) -> None:
    """Delete the drawn track: the task's layer is as it was."""
    track_id = str(track["id"])
    api.call("DELETE", f"/api/tracks/{track_id}?expected_version={track['version']}&task_id={task['id']}")
    rows = api.call("GET", f"/api/scenes/{scene_id}/layers/{task['layer']}/tracks")
    assert all(str(r["track"]["id"]) != track_id for r in rows)
