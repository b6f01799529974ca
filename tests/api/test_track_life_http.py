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
