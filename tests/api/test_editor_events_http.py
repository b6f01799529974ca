"""Reopening a candidate and the editor's task events over HTTP (the authorization matrix's world: the
real SUSTechPOINTS scene, 3 frames, ann's task in progress on layer "work")."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.api.authz_world import CANDIDATE_LAYER, World, make_world


@pytest.fixture
def world(api_app: FastAPI, db_factory: sessionmaker[Session]) -> World:
    return make_world(api_app, db_factory)


def _post(
    client: TestClient, world: World, url: str, body: dict[str, Any], who: str = "ann"
) -> httpx2.Response:
    return client.post(url, json=body, headers=world.team.auth(who))


def _decide(client: TestClient, world: World, track_id: int, action: str, version: int) -> httpx2.Response:
    body = {"expected_version": version, "task_id": world.ann_task}
    return _post(client, world, f"/api/tracks/{track_id}/{action}", body)


def test_reopen_takes_back_a_reject_and_a_confirm(client: TestClient, world: World) -> None:
    candidate = world.candidate()
    pending = _decide(client, world, candidate, "reopen", 1)
    assert pending.status_code == 409 and pending.json()["current"]["status"] == "candidate", pending.text

    assert _decide(client, world, candidate, "reject", 1).status_code == 200
    reopened = _decide(client, world, candidate, "reopen", 2)
    assert reopened.status_code == 200, reopened.text
    track = reopened.json()["track"]
    assert (track["status"], track["version"], track["id"]) == ("candidate", 3, candidate)
    assert reopened.json()["shapes"]["frames"] == [0, 1, 2]

    confirmed = _decide(client, world, candidate, "confirm", 3)
    assert confirmed.status_code == 200, confirmed.text
    copy = confirmed.json()["track"]
    assert copy["provenance"] == {"kind": "candidate", "source": CANDIDATE_LAYER}
    blocked = _decide(client, world, candidate, "reopen", 4)
    assert blocked.status_code == 409 and f"track {copy['id']}" in blocked.json()["error"], blocked.text
    params = {"expected_version": copy["version"], "task_id": world.ann_task}
    deleted = client.delete(f"/api/tracks/{copy['id']}", params=params, headers=world.team.auth("ann"))
    assert deleted.status_code == 200, deleted.text
    again = _decide(client, world, candidate, "reopen", 4)
    assert again.status_code == 200 and again.json()["track"]["status"] == "candidate", again.text
    stale = _decide(client, world, candidate, "reopen", 4)
    assert stale.status_code == 409 and stale.json()["current"]["version"] == 5


def test_the_assignee_records_editor_events(client: TestClient, world: World) -> None:
    url = f"/api/tasks/{world.ann_task}/events"
    track = world.work_track()
    shown = _post(
        client,
        world,
        url,
        {"kind": "nudge_shown", "payload": {"nudge_kind": "make_stationary", "track_id": track}},
    )
    assert shown.status_code == 201, shown.text
    event = shown.json()
    assert set(event) == {"id", "kind", "task_id", "track_id", "payload", "at"}
    assert (event["kind"], event["task_id"], event["track_id"]) == ("nudge_shown", world.ann_task, track)
    assert event["payload"] == {"nudge_kind": "make_stationary", "track_id": track}
    beat = _post(client, world, url, {"kind": "heartbeat"})
    assert beat.status_code == 201 and beat.json()["payload"] == {} and beat.json()["id"] > event["id"]

    refused: list[tuple[dict[str, Any], int, str | None]] = [
        ({"kind": "track_created", "payload": {}}, 422, "kind"),
        ({"kind": "frame_viewed", "payload": {"frame": 3}}, 422, "payload.frame"),
        ({"kind": "frame_viewed", "payload": {"frame": 1, "extra": 1}}, 422, "payload.extra"),
        ({"kind": "heartbeat", "payload": {"frame": 1, "pad": "x" * 2000}}, 422, "payload"),
        ({"kind": "heartbeat", "payload": "beat"}, 422, None),
        ({"kind": "x" * 61}, 422, None),
    ]
    for body, status, field in refused:
        response = _post(client, world, url, body)
        assert response.status_code == status, (body, response.text)
        if field is not None:
            assert response.json()["field"] == field, response.text

    # The manager sees the task but is not its assignee; a submitted task takes no more events.
    assert _post(client, world, url, {"kind": "heartbeat"}, who="meg").status_code == 403
    submitted = world.task("submitted")
    closed = _post(client, world, f"/api/tasks/{submitted}/events", {"kind": "heartbeat"})
    assert closed.status_code == 409 and closed.json()["current"]["state"] == "submitted", closed.text
