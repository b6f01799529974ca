"""The check key's and the end search's routes over HTTP: what they answer on real tracks, and what
they refuse.

The check key's world is the authorization matrix's: the real SUSTechPOINTS scene, where a fresh work
track is a copy of a real ground-truth track keyed at frames 0, 1 and 2 (a manual track: no detections of
its own). The end search walks a track drawn on KITTI tracking 0001, whose frames reach well past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import scenes, tasks
from labelpilot.services.actors import SYSTEM
from tests.api.api_helpers import KITTI_ROOT, ApiTeam, blobs_of, make_api_team
from tests.api.authz_world import World, make_world
from tests.services.automation_world import parked_car, parked_car_keyframes


@pytest.fixture
def world(api_app: FastAPI, db_factory: sessionmaker[Session]) -> World:
    return make_world(api_app, db_factory)


def _ask(client: TestClient, world: World, track_id: int, **body: Any) -> httpx2.Response:
    return client.post(
        f"/api/tracks/{track_id}/next-check",
        json={"task_id": world.ann_task, **body},
        headers=world.team.auth("ann"),
    )


def test_next_check_walks_the_ends_then_says_checked(client: TestClient, world: World) -> None:
    track_id = world.work_track()
    first = _ask(client, world, track_id)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "frame": 0,
        "kind": "end",
        "reason": first.json()["reason"],
        "supported_frames": [],  # a person's track has no detections to agree with
    }
    assert _ask(client, world, track_id, looked=[0]).json()["frame"] == 2
    done = _ask(client, world, track_id, looked=[0, 1, 2], right=[0, 2]).json()
    assert (done["frame"], done["kind"]) == (None, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [("looked", [True]), ("right", ["1"]), ("accepted_ends", [-1]), ("looked", [0, 0]), ("right", [3])],
)
def test_next_check_refuses_what_is_not_a_list_of_distinct_frames(
    client: TestClient, world: World, field: str, value: list[Any]
) -> None:
    response = _ask(client, world, world.work_track(), **{field: value})
    assert response.status_code == 422, response.text
    assert field in response.text


# The end search over HTTP, on a track ann draws on KITTI tracking 0001 (many frames on either side of
# its life), keyed at the first and last of the frames the automation tests key a parked car at.


@dataclass(frozen=True)
class Drawn:
    team: ApiTeam
    scene_id: int
    task_id: int
    track: dict[str, Any]
    frame_count: int


@pytest.fixture
def drawn(client: TestClient, api_app: FastAPI, db_factory: sessionmaker[Session]) -> Drawn:
    team = make_api_team(db_factory)
    with db_factory.begin() as s:
        scene = scenes.import_scene(
            s, blobs_of(api_app), SYSTEM, team.project_id, "kitti-tracking", KITTI_ROOT, "0001"
        )
        task = tasks.create_task(s, SYSTEM, team.project_id, scene.id, "annotate", assignee="ann")
        scene_id, frame_count = scene.id, scene.frame_count
    auth = team.auth("ann")
    assert client.post(f"/api/tasks/{task.id}/start", json={}, headers=auth).status_code == 200
    keyed = parked_car_keyframes()
    body = {
        "label": "Car",
        "size": list(parked_car().size),
        "keyframes": {str(f): pose for f, pose in (keyed[0], keyed[-1])},
        "task_id": task.id,
    }
    created = client.post(f"/api/scenes/{scene_id}/tracks", json=body, headers=auth)
    assert created.status_code == 201, created.text
    return Drawn(team, scene_id, task.id, created.json()["track"], frame_count)


def _step(client: TestClient, drawn: Drawn, **body: Any) -> httpx2.Response:
    return client.post(
        f"/api/tracks/{drawn.track['id']}/end-search",
        json={"task_id": drawn.task_id, **body},
        headers=drawn.team.auth("ann"),
    )


def _stored(client: TestClient, drawn: Drawn) -> dict[str, Any]:
    rows = client.get(f"/api/scenes/{drawn.scene_id}/layers/work/tracks", headers=drawn.team.auth("ann"))
    assert rows.status_code == 200, rows.text
    return dict(next(r["track"] for r in rows.json() if r["track"]["id"] == drawn.track["id"]))


def test_the_end_search_walks_from_past_the_end_to_the_life_found(client: TestClient, drawn: Drawn) -> None:
    first, last = drawn.track["first_frame"], drawn.track["last_frame"]
    assert drawn.track["provenance"]["kind"] == "manual"
    outside = last + 24
    assert outside < drawn.frame_count
    true_last = last + 9
    start = _step(client, drawn, frame=outside, looked=[outside])
    assert start.status_code == 200, start.text
    assert start.json() == {
        "search": {"present": last, "absent": outside, "past_end": True},
        "frame": last + 1,
        "life": None,
        "finds_start": False,
    }
    step, answers = start.json(), 0
    while step["frame"] is not None:
        frame = step["frame"]
        response = _step(client, drawn, frame=frame, search=step["search"], here=frame <= true_last)
        assert response.status_code == 200, response.text
        step, answers = response.json(), answers + 1
        assert answers <= 6  # the frame past the end, then halvings of 23 frames
    assert step["life"] == [first, true_last]
    assert step["search"] == {"present": true_last, "absent": true_last + 1, "past_end": False}
    assert _stored(client, drawn)["version"] == drawn.track["version"]  # nothing was written


def test_the_end_search_refuses_a_malformed_step(client: TestClient, drawn: Drawn) -> None:
    last = drawn.track["last_frame"]
    bracket = {"present": last, "absent": last + 20, "past_end": False}
    inside = last + 5
    cases: list[tuple[str, dict[str, Any]]] = [
        ("frame", {"frame": last + 20, "search": bracket, "here": True}),  # outside the bracket
        ("frame", {"frame": drawn.frame_count}),
        ("search.absent", {"frame": inside, "search": {**bracket, "absent": last}, "here": True}),
        (
            "search.present",
            {"frame": inside, "search": {**bracket, "present": drawn.frame_count}, "here": True},
        ),
        (
            "body.search.past_end",
            {"frame": inside, "search": {"present": last, "absent": last + 20}, "here": True},
        ),
        ("body.search.present", {"frame": inside, "search": {**bracket, "present": str(last)}, "here": True}),
        ("here", {"frame": inside, "search": bracket}),
        ("body.here", {"frame": inside, "search": bracket, "here": "yes"}),
        ("body.frame", {"frame": True}),
        ("looked", {"frame": inside, "looked": [inside, inside]}),
    ]
    for field, body in cases:
        response = _step(client, drawn, **body)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["field"] == field, (field, response.text)
    outside = _step(client, drawn, frame=last + 20, search=bracket, here=True).json()["error"]
    assert outside == f"frame {last + 20} is outside the search (frames {last} to {last + 20})"


def test_who_may_step_the_end_search(client: TestClient, world: World) -> None:
    track_id = world.work_track(last_frame=1)  # frame 2 is just past its end: the search closes at once
    body = {"task_id": world.ann_task, "frame": 2}
    url = f"/api/tracks/{track_id}/end-search"
    answered = client.post(url, json=body, headers=world.team.auth("ann"))
    assert answered.status_code == 200, answered.text
    assert answered.json() == {
        "search": {"present": 1, "absent": 2, "past_end": True},
        "frame": None,
        "life": [0, 1],
        "finds_start": False,
    }
    assert client.post(url, json=body).status_code == 401
    # abe sees neither the scene nor the task: refused as the check key refuses him.
    hidden = client.post(url, json={"frame": 2}, headers=world.team.auth("abe"))
    check = client.post(f"/api/tracks/{track_id}/next-check", json={}, headers=world.team.auth("abe"))
    assert check.status_code == 404
    assert (hidden.status_code, hidden.json()) == (check.status_code, check.json())
