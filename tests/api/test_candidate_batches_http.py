"""Batch decisions on candidates over HTTP: the answer, all-or-nothing, and what is refused.

The world is the authorization matrix's (the real SUSTechPOINTS scene; fresh candidates are copies
of a real ground-truth track in a candidates layer)."""

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


def _post(client: TestClient, world: World, path: str, tracks: list[dict[str, Any]]) -> httpx2.Response:
    return client.post(
        f"/api/candidates/{path}",
        json={"tracks": tracks, "task_id": world.ann_task},
        headers=world.team.auth("ann"),
    )


def _refs(world: World, ids: list[int]) -> list[dict[str, Any]]:
    return [{"id": i, "expected_version": world.version(i)} for i in ids]


def test_reject_then_reopen_a_batch(client: TestClient, world: World) -> None:
    ids = [world.candidate() for _ in range(3)]
    rejected = _post(client, world, "reject", _refs(world, ids))
    assert rejected.status_code == 200, rejected.text
    tracks = rejected.json()["tracks"]
    assert [t["id"] for t in tracks] == ids and {t["status"] for t in tracks} == {"rejected"}
    assert set(tracks[0]) == {"id", "version", "status"}  # slim: the boxes did not change
    assert [world.version(i) for i in ids] == [t["version"] for t in tracks]
    reopened = _post(client, world, "reopen", _refs(world, ids))
    assert reopened.status_code == 200, reopened.text
    assert {t["status"] for t in reopened.json()["tracks"]} == {"candidate"}
    assert [world.version(i) for i in ids] == [t["version"] + 1 for t in tracks]


def test_a_stale_member_refuses_the_whole_batch(client: TestClient, world: World) -> None:
    ids = [world.candidate() for _ in range(3)]
    before = [world.version(i) for i in ids]
    refs = _refs(world, ids)
    refs[1]["expected_version"] += 5
    response = _post(client, world, "reject", refs)
    assert response.status_code == 409, response.text
    assert response.json()["current"]["id"] == ids[1]
    # The first one was rejected before the second was refused: rolled back with it.
    assert [world.version(i) for i in ids] == before
    again = _post(client, world, "reject", _refs(world, ids))
    assert again.status_code == 200 and [world.version(i) for i in ids] == [v + 1 for v in before]


@pytest.mark.parametrize(
    "tracks",
    [[], [{"id": "one", "expected_version": 1}], [{"id": 1}], [{"id": 1, "expected_version": -1}]],
)
def test_malformed_batches_are_refused(
    client: TestClient, world: World, tracks: list[dict[str, Any]]
) -> None:
    assert _post(client, world, "reject", tracks).status_code == 422


def test_a_candidate_named_twice_is_refused(client: TestClient, world: World) -> None:
    track_id = world.candidate()
    response = _post(client, world, "reject", _refs(world, [track_id, track_id]))
    assert response.status_code in (400, 422) and "named twice" in response.text
    assert world.version(track_id) == 1
