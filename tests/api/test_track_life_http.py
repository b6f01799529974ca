"""The life, absent-frame and batched-keyframe routes over HTTP: ann edits in her task, a stale version is 409.

The world is the authorization matrix's: the real SUSTechPOINTS scene (3 frames), where a fresh work
track is a copy of a real ground-truth track keyed at frames 0, 1 and 2.
"""

from __future__ import annotations

from typing import Any

import httpx2
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.tracks import Keyframed
from tests.api.authz_world import World, make_world


@pytest.fixture
def world(api_app: FastAPI, db_factory: sessionmaker[Session]) -> World:
    return make_world(api_app, db_factory)


def _put(client: TestClient, world: World, url: str, version: int, **body: Any) -> httpx2.Response:
    json = {"expected_version": version, "task_id": world.ann_task, **body}
    return client.put(url, json=json, headers=world.team.auth("ann"))


def _ok(response: httpx2.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _assert_stale(response: httpx2.Response, current: dict[str, Any]) -> None:
    assert response.status_code == 409, response.text
    assert response.json()["current"] == current


def test_put_life_trims_the_track(client: TestClient, world: World) -> None:
    track_id = world.work_track()
    version = world.version(track_id)
    url = f"/api/tracks/{track_id}/life"
    trimmed = _ok(_put(client, world, url, version, first_frame=0, last_frame=1))
    track = trimmed["track"]
    assert (track["first_frame"], track["last_frame"], track["version"]) == (0, 1, version + 1)
    assert sorted(track["keyframes"]) == ["0", "1"] and trimmed["shapes"]["frames"] == [0, 1]
    _assert_stale(_put(client, world, url, version, first_frame=0, last_frame=2), track)


def test_put_absent_takes_a_frame_out_and_back(client: TestClient, world: World) -> None:
    track_id = world.work_track()
    version = world.version(track_id)
    headers = world.team.auth("ann")
    params = {"expected_version": version, "task_id": world.ann_task}
    assert (
        client.delete(f"/api/tracks/{track_id}/keyframes/1", params=params, headers=headers).status_code
        == 200
    )
    url = f"/api/tracks/{track_id}/absent"
    at_end = _put(client, world, url, version + 1, frames=[2], absent=True)
    assert at_end.status_code == 422 and "trim the life" in at_end.json()["error"], at_end.text
    hidden = _ok(_put(client, world, url, version + 1, frames=[1], absent=True))
    assert hidden["track"]["absent_frames"] == [1] and hidden["shapes"]["frames"] == [0, 2]
    _assert_stale(_put(client, world, url, version + 1, frames=[1], absent=False), hidden["track"])
    shown = _ok(_put(client, world, url, version + 2, frames=[1], absent=False))
    assert shown["track"]["absent_frames"] == [] and shown["shapes"]["frames"] == [0, 1, 2]


def test_put_keyframes_sets_several_in_one_edit(client: TestClient, world: World) -> None:
    track_id = world.work_track()
    version = world.version(track_id)
    url = f"/api/tracks/{track_id}/keyframes"
    poses: dict[str, dict[str, Any]] = {
        "1": {"center": [3.0, -2.0, 0.5], "yaw": 0.4},
        "2": {"center": [4.0, -2.5, 0.5], "yaw": 0.5},
    }
    result = _ok(_put(client, world, url, version, keyframes=poses))
    assert result["track"]["version"] == version + 1
    frames = result["shapes"]["frames"]
    centers = np.asarray(result["shapes"]["centers"])
    for frame, pose in poses.items():
        np.testing.assert_allclose(centers[frames.index(int(frame))], pose["center"], atol=1e-9)
        assert result["shapes"]["yaws"][frames.index(int(frame))] == pytest.approx(pose["yaw"], abs=1e-9)
    _assert_stale(_put(client, world, url, version, keyframes=poses), result["track"])


def _proposed(client: TestClient, world: World, track_id: int) -> list[dict[str, Any]]:
    response = client.get(
        f"/api/tracks/{track_id}/proposed-life",
        params={"task_id": world.ann_task},
        headers=world.team.auth("ann"),
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return items


def _drawn_stationary(client: TestClient, world: World, pose_frame: int) -> tuple[int, int]:
    """A work track drawn at frames 0..1 and marked stationary at the source's pose in ``pose_frame``
    (the source is a moving car); its id and version."""
    track_id = world.work_track()
    version = world.version(track_id)
    keyframes = _ok(_put(client, world, f"/api/tracks/{track_id}/life", version, first_frame=0, last_frame=2))
    pose = keyframes["track"]["keyframes"][str(pose_frame)]
    _ok(_put(client, world, f"/api/tracks/{track_id}/life", version + 1, first_frame=0, last_frame=1))
    response = client.post(
        f"/api/tracks/{track_id}/stationary",
        json={"expected_version": version + 2, "task_id": world.ann_task, "pose": pose},
        headers=world.team.auth("ann"),
    )
    return track_id, _ok(response)["track"]["version"]


def test_a_drawn_stationary_track_is_offered_its_life_until_it_is_taken(
    client: TestClient, world: World
) -> None:
    """Held where the car is in frame 2, the box has lidar points there and the scene ends: one
    ``accept_life`` item to frame 2. Held where it was in frame 0, the box is empty in frame 2 (the car
    drove on): no life to accept, a look at its last frame instead."""
    track_id, version = _drawn_stationary(client, world, pose_frame=2)
    items = _proposed(client, world, track_id)
    assert [(i["kind"], i["track_id"], i["life"], i["frame"]) for i in items] == [
        ("accept_life", str(track_id), [0, 2], 2)
    ]
    assert "the scene ends" in items[0]["reason"]
    _ok(_put(client, world, f"/api/tracks/{track_id}/life", version, first_frame=0, last_frame=2))
    assert _proposed(client, world, track_id) == []
    left_behind, _ = _drawn_stationary(client, world, pose_frame=0)
    items = _proposed(client, world, left_behind)
    assert [(i["kind"], i["life"], i["frame"]) for i in items] == [("check_end", [0, 1], 1)]
    assert "no lidar points in its box at frame 2" in items[0]["reason"]


def test_an_end_found_gone_is_not_carried_past(client: TestClient, world: World) -> None:
    """Looked at in frame 2 and found gone there (``life_checked_last`` past the last frame 1): the
    proposal to frame 2 is no longer offered."""
    track_id, version = _drawn_stationary(client, world, pose_frame=2)
    response = client.patch(
        f"/api/tracks/{track_id}",
        json={"expected_version": version, "task_id": world.ann_task, "attributes": {"life_checked_last": 2}},
        headers=world.team.auth("ann"),
    )
    assert response.status_code == 200, response.text
    assert _proposed(client, world, track_id) == []


def test_a_drawn_moving_track_is_offered_its_continued_life_and_ground_truth_none(
    client: TestClient, world: World
) -> None:
    """Keyed at frames 0 and 1, a person's moving track is proposed to go on to frame 2 (the scene's
    end); keyed once, it has no motion to continue."""
    moving = world.work_track(last_frame=1)
    items = _proposed(client, world, moving)
    assert [(i["kind"], i["life"]) for i in items] == [("accept_life", [0, 2])]
    once = world.work_track(last_frame=0)
    assert _proposed(client, world, once) == []
    refused = client.get(
        f"/api/tracks/{world.ground_truth_track}/proposed-life", headers=world.team.auth("root")
    )
    assert refused.status_code == 422 and "ground_truth" in refused.text
    missing = client.get("/api/tracks/999999/proposed-life", headers=world.team.auth("ann"))
    assert missing.status_code == 404


def _pose_center(pose: list[float]) -> np.ndarray:
    return np.array([pose[3], pose[7], pose[11]])


def test_extend_puts_a_moving_box_where_its_keyframes_lead(client: TestClient, world: World) -> None:
    """The source car is keyed at frames 0, 1, 2; cut at 1 and extended to 2, its box there continues the
    motion from 0 to 1, and lands nearer the car's real box at 2 than the box held from 1."""
    track_id = world.work_track(last_frame=1)
    version = world.version(track_id)
    headers = world.team.auth("ann")
    body = {"expected_version": version, "task_id": world.ann_task, "frame": 2}
    extended = _ok(client.post(f"/api/tracks/{track_id}/extend", json=body, headers=headers))
    track = extended["track"]
    assert (track["first_frame"], track["last_frame"], track["version"]) == (0, 2, version + 1)
    keys = track["keyframes"]
    assert sorted(keys) == ["0", "1", "2"] and extended["shapes"]["frames"] == [0, 1, 2]
    at_0, at_1, at_2 = (_pose_center(keys[k]) for k in ("0", "1", "2"))
    assert isinstance(world.source.motion, Keyframed)
    truth = world.source.motion.keyframes[2].translation
    assert np.linalg.norm(at_1 - at_0) > 0.1  # the car moves
    assert np.linalg.norm(at_2 - truth) < np.linalg.norm(at_1 - truth)
    # A stale version is refused; a frame inside the life is not an extension.
    _assert_stale(client.post(f"/api/tracks/{track_id}/extend", json=body, headers=headers), track)
    inside = {**body, "expected_version": version + 1, "frame": 1}
    refused = client.post(f"/api/tracks/{track_id}/extend", json=inside, headers=headers)
    assert refused.status_code == 422 and "inside the track's life" in refused.text


def test_extend_holds_a_stationary_box(client: TestClient, world: World) -> None:
    track_id = world.work_track(stationary=True, last_frame=0)
    version = world.version(track_id)
    body = {"expected_version": version, "task_id": world.ann_task, "frame": 2}
    extended = _ok(client.post(f"/api/tracks/{track_id}/extend", json=body, headers=world.team.auth("ann")))
    track = extended["track"]
    assert (track["first_frame"], track["last_frame"], track["keyframes"]) == (0, 2, {})
    centers = np.array(extended["shapes"]["centers"])
    assert extended["shapes"]["frames"] == [0, 1, 2] and np.allclose(centers, centers[0])


def _accept(
    client: TestClient, world: World, track_id: int, version: int, life: tuple[int, int]
) -> httpx2.Response:
    body = {
        "expected_version": version,
        "task_id": world.ann_task,
        "first_frame": life[0],
        "last_frame": life[1],
    }
    return client.post(f"/api/tracks/{track_id}/accept-life", json=body, headers=world.team.auth("ann"))


def test_accepting_a_drawn_moving_life_continues_the_track_in_one_edit(
    client: TestClient, world: World
) -> None:
    """The proposal for a person's moving track keyed at 0 and 1 goes on to frame 2: accepting it puts
    the box there where ``extend`` would (not held from frame 1), marks the life accepted, one version
    step; a stale version is refused."""
    moving, twin = world.work_track(last_frame=1), world.work_track(last_frame=1)
    version = world.version(moving)
    accepted = _ok(_accept(client, world, moving, version, (0, 2)))
    track = accepted["track"]
    assert (track["first_frame"], track["last_frame"], track["version"]) == (0, 2, version + 1)
    assert track["attributes"]["life_accepted"] is True
    body = {"expected_version": world.version(twin), "task_id": world.ann_task, "frame": 2}
    extended = _ok(client.post(f"/api/tracks/{twin}/extend", json=body, headers=world.team.auth("ann")))
    assert track["keyframes"]["2"] == extended["track"]["keyframes"]["2"]
    assert not np.allclose(_pose_center(track["keyframes"]["2"]), _pose_center(track["keyframes"]["1"]))
    _assert_stale(_accept(client, world, moving, version, (0, 2)), track)


def test_accepting_a_shorter_or_a_stationary_life_sets_it(client: TestClient, world: World) -> None:
    """A proposal that ends before the track does trims it (as ``PUT /life``); a person's stationary
    track is carried on with its one box; both marked accepted. A life outside the scene is refused."""
    keyed = world.work_track()
    version = world.version(keyed)
    trimmed = _ok(_accept(client, world, keyed, version, (0, 1)))["track"]
    assert (trimmed["first_frame"], trimmed["last_frame"]) == (0, 1)
    assert sorted(trimmed["keyframes"]) == ["0", "1"] and trimmed["attributes"]["life_accepted"] is True
    parked, parked_version = _drawn_stationary(client, world, pose_frame=2)
    carried = _ok(_accept(client, world, parked, parked_version, (0, 2)))
    assert (carried["track"]["last_frame"], carried["track"]["keyframes"]) == (2, {})
    centers = np.array(carried["shapes"]["centers"])
    assert carried["shapes"]["frames"] == [0, 1, 2] and np.allclose(centers, centers[0])
    assert _proposed(client, world, parked) == []
    refused = _accept(client, world, parked, parked_version + 1, (0, 9))
    assert refused.status_code == 422 and "last_frame" in refused.text
