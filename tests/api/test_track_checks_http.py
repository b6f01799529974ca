"""The check key's route over HTTP: what it answers on a real (3-frame) track, and what it refuses.

The world is the authorization matrix's: the real SUSTechPOINTS scene, where a fresh work track is a
copy of a real ground-truth track keyed at frames 0, 1 and 2 (a manual track: no detections of its own).
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.api.authz_world import World, make_world


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
