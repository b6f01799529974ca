"""Automation and guidance over HTTP on a real KITTI scene: autolabel, guidance, nudges."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.api.params import MAX_INT32
from labelpilot.automation.candidates import build_candidates
from labelpilot.formats import read_scene
from labelpilot.services import scenes, tasks
from labelpilot.services.actors import SYSTEM
from tests.api.api_helpers import KITTI_ROOT, ApiTeam, blobs_of, make_api_team
from tests.services.automation_world import parked_car, parked_car_keyframes

SEQUENCE = "0001"
DETECTIONS = "auto:pointrcnn"
CANDIDATES = f"candidates:{DETECTIONS}"
ACTION_KEYS = {"kind", "reason", "track_id", "frame", "view", "keyframes", "saves_seconds", "priority", "key"}
NUDGE_KEYS = {"kind", "message", "track_id", "action", "saves_seconds"}


@functools.cache
def reference_candidates() -> int:
    """How many candidates the detections of the files make (the reference for the stored run)."""
    scene = read_scene("kitti-tracking", KITTI_ROOT, SEQUENCE)
    return len(build_candidates(scene, scene.layers[DETECTIONS]).tracks)


@dataclass(frozen=True)
class Setup:
    team: ApiTeam
    scene_id: int
    task_id: int
    """ann's annotate task on the scene, queued (``_start`` starts it); abe has none."""


@pytest.fixture
def setup(api_app: FastAPI, db_factory: sessionmaker[Session]) -> Setup:
    team = make_api_team(db_factory)
    with db_factory.begin() as s:
        row = scenes.import_scene(
            s, blobs_of(api_app), SYSTEM, team.project_id, "kitti-tracking", KITTI_ROOT, SEQUENCE
        )
        task = tasks.create_task(s, SYSTEM, team.project_id, row.id, "annotate", assignee="ann")
    return Setup(team, row.id, task.id)


def _start(client: TestClient, setup: Setup) -> None:
    response = client.post(f"/api/tasks/{setup.task_id}/start", json={}, headers=setup.team.auth("ann"))
    assert response.status_code == 200, response.text


def _autolabel(client: TestClient, setup: Setup, caller: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/scenes/{setup.scene_id}/autolabel", json=body, headers=setup.team.auth(caller))


def _key_frame_by_frame(client: TestClient, setup: Setup, keyed: list[tuple[int, list[float]]]) -> int:
    """A new work track drawn at the first frame and keyed at each next one, as ann; its id."""
    auth = setup.team.auth("ann")
    (first, pose), rest = keyed[0], keyed[1:]
    body = {
        "label": "Car",
        "size": list(parked_car().size),
        "keyframes": {str(first): pose},
        "task_id": setup.task_id,
    }
    created = client.post(f"/api/scenes/{setup.scene_id}/tracks", json=body, headers=auth)
    assert created.status_code == 201, created.text
    track = created.json()["track"]
    for frame, pose in rest:
        body = {"expected_version": track["version"], "task_id": setup.task_id, "pose": pose}
        response = client.put(f"/api/tracks/{track['id']}/keyframes/{frame}", json=body, headers=auth)
        assert response.status_code == 200, response.text
        track = response.json()["track"]
    return int(track["id"])


def test_autolabel_over_http(client: TestClient, setup: Setup) -> None:
    _start(client, setup)
    for body in (
        {},
        {"from_layer": DETECTIONS, "detector": "classic"},
        {"detector": "yolo"},
        {"from_layer": ""},
    ):
        response = _autolabel(client, setup, "meg", body)
        assert response.status_code == 422, (body, response.text)
        assert "error" in response.json()
    refused = _autolabel(client, setup, "meg", {"from_layer": "ground_truth"})
    assert refused.status_code == 422 and refused.json()["field"] == "from_layer"
    assert _autolabel(client, setup, "meg", {"from_layer": "auto:nothing"}).status_code == 404
    no_lidar = _autolabel(client, setup, "meg", {"detector": "classic"})
    assert no_lidar.status_code == 422 and no_lidar.json()["field"] == "detector"
    assert _autolabel(client, setup, "ann", {"from_layer": DETECTIONS}).status_code == 403
    assert _autolabel(client, setup, "abe", {"from_layer": DETECTIONS}).status_code == 404
    assert (
        client.post(f"/api/scenes/{setup.scene_id}/autolabel", json={"from_layer": DETECTIONS}).status_code
        == 401
    )

    first = _autolabel(client, setup, "meg", {"from_layer": DETECTIONS})
    assert first.status_code == 200, first.text
    summary = first.json()
    expected = reference_candidates()
    assert summary["layers"] == [{"name": CANDIDATES, "tracks": expected, "replaced": False}]
    assert summary["scene_id"] == setup.scene_id and summary["candidates"] == expected
    assert set(summary["seconds"]) >= {"load", "candidates", "write", "total"}
    layers = client.get(f"/api/scenes/{setup.scene_id}/layers", headers=setup.team.auth("ann")).json()
    assert CANDIDATES in [layer["name"] for layer in layers]
    again = _autolabel(client, setup, "root", {"from_layer": DETECTIONS})
    assert again.status_code == 200 and again.json()["layers"][0]["replaced"] is True

    # ann rejects a candidate of the stored layer in her task: a rerun would lose that, so 409.
    shapes = client.get(
        f"/api/scenes/{setup.scene_id}/frames/0/shapes",
        params={"layer": CANDIDATES},
        headers=setup.team.auth("ann"),
    ).json()
    assert shapes, "the first frame has candidates"
    rejected = client.post(
        f"/api/tracks/{shapes[0]['track_id']}/reject",
        json={"expected_version": shapes[0]["version"], "task_id": setup.task_id},
        headers=setup.team.auth("ann"),
    )
    assert rejected.status_code == 200, rejected.text
    conflict = _autolabel(client, setup, "meg", {"from_layer": DETECTIONS})
    assert conflict.status_code == 409
    assert conflict.json()["current"] == {"layer": CANDIDATES, "edited_tracks": 1}


def test_guidance_and_nudges_over_http(client: TestClient, setup: Setup) -> None:
    _start(client, setup)
    assert _autolabel(client, setup, "meg", {"from_layer": DETECTIONS}).status_code == 200
    url = f"/api/scenes/{setup.scene_id}/guidance"
    response = client.get(url, params={"task_id": setup.task_id, "limit": 5}, headers=setup.team.auth("ann"))
    assert response.status_code == 200, response.text
    actions = response.json()
    assert 0 < len(actions) <= 5
    for action in actions:
        assert set(action) >= ACTION_KEYS
        assert isinstance(action["frame"], int) and isinstance(action["keyframes"], list)
    priorities = [a["priority"] for a in actions]
    assert priorities == sorted(priorities, reverse=True)
    everything = client.get(url, headers=setup.team.auth("rita")).json()
    assert len(everything) >= len(actions) and everything[:5] == actions
    for params in ({"limit": 0}, {"limit": 1001}, {"task_id": 0}, {"task_id": MAX_INT32 + 1}, {"layer": ""}):
        assert client.get(url, params=params, headers=setup.team.auth("ann")).status_code == 422, params
    assert (
        client.get(url, params={"layer": "ground_truth"}, headers=setup.team.auth("rita")).status_code == 422
    )
    assert client.get(url, headers=setup.team.auth("abe")).status_code == 404
    assert client.get(url, headers=setup.team.auth("otto")).status_code == 404
    assert client.get(url).status_code == 401

    nudges_url = f"/api/tasks/{setup.task_id}/nudges"
    nudges = client.get(nudges_url, headers=setup.team.auth("ann"))
    assert nudges.status_code == 200 and nudges.json() == []  # nothing done yet, nothing to nudge
    # ann keys a parked car frame by frame in her task: the nudge offers one world box instead.
    track_id = _key_frame_by_frame(client, setup, parked_car_keyframes())
    nudged = client.get(nudges_url, headers=setup.team.auth("ann"))
    assert nudged.status_code == 200, nudged.text
    (nudge,) = nudged.json()
    assert set(nudge) == NUDGE_KEYS and (nudge["kind"], nudge["track_id"]) == (
        "make_stationary",
        str(track_id),
    )
    assert set(nudge["action"]) >= ACTION_KEYS and nudge["action"]["key"] == "s"
    assert client.get(nudges_url, headers=setup.team.auth("rita")).status_code == 200
    assert client.get(nudges_url, headers=setup.team.auth("abe")).status_code == 403
    assert client.get(nudges_url, headers=setup.team.auth("otto")).status_code == 404
    assert client.get(f"/api/tasks/{MAX_INT32}/nudges", headers=setup.team.auth("ann")).status_code == 404
    assert client.get("/api/tasks/0/nudges", headers=setup.team.auth("ann")).status_code == 422
