"""Input the database cannot hold is refused with 422 at the boundary, on SQLite and PostgreSQL alike.

Found by the schemathesis run (numbers past 64 bits crash SQLite's driver) and by hand on PostgreSQL
(NUL characters in text, numbers past 32 bits in INTEGER columns): each was a 500 before.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.api.params import MAX_INT32
from tests.api.api_helpers import ApiTeam, make_api_team

TOO_BIG = [MAX_INT32 + 1, 2**63, 2**70]


@pytest.fixture
def team(db_factory: sessionmaker[Session]) -> ApiTeam:
    return make_api_team(db_factory)


def _assert_refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field, response.json()


def test_nul_characters_are_refused_before_any_query(client: TestClient, team: ApiTeam) -> None:
    _assert_refused(
        client.post("/api/auth/login", json={"name": "r\x00oot", "password": "x" * 8}), "body.name"
    )
    root = team.auth("root")
    _assert_refused(client.post("/api/projects", json={"name": "p\x00"}, headers=root), "body.name")
    _assert_refused(
        client.put(f"/api/projects/{team.project_id}/members/a%00b", json={"role": "coach"}, headers=root),
        "path.user_name",
    )
    _assert_refused(
        client.get(f"/api/projects/{team.project_id}/tasks", params={"state": "queued\x00"}, headers=root),
        "query.state",
    )
    _assert_refused(
        client.get("/api/scenes/1/frames/0/shapes", params={"layer": "work\x00"}, headers=root), "query.layer"
    )
    attributes = {"label": "Car", "size": [1, 1, 1], "keyframes": {}, "attributes": {"a\x00": 1}}
    response = client.post("/api/scenes/1/tracks", json=attributes, headers=root)
    assert response.status_code == 422 and response.json()["field"].startswith("body.attributes")
    # Ordinary text with other control characters and non-ASCII letters is fine.
    assert client.post("/api/projects", json={"name": "Straßen\tNord"}, headers=root).status_code == 201


@pytest.mark.parametrize("number", TOO_BIG)
def test_numbers_past_the_database_columns_are_refused(
    client: TestClient, team: ApiTeam, number: int
) -> None:
    root = team.auth("root")
    _assert_refused(client.get(f"/api/projects/{number}", headers=root), "path.project_id")
    _assert_refused(client.get(f"/api/scenes/1/frames/{number}/lidar", headers=root), "path.frame_index")
    _assert_refused(client.get(f"/api/tasks/{number}", headers=root), "path.task_id")
    _assert_refused(
        client.get(f"/api/projects/{team.project_id}/tasks", params={"scene_id": number}, headers=root),
        "query.scene_id",
    )
    _assert_refused(
        client.post(
            f"/api/projects/{team.project_id}/tasks", json={"scene_id": 1, "priority": number}, headers=root
        ),
        "body.priority",
    )
    _assert_refused(
        client.post("/api/tasks/next", json={"project_id": number}, headers=root), "body.project_id"
    )
    _assert_refused(
        client.patch("/api/tracks/1", json={"expected_version": number}, headers=root),
        "body.expected_version",
    )
    _assert_refused(
        client.delete("/api/tracks/1", params={"expected_version": number}, headers=root),
        "query.expected_version",
    )


def test_ids_at_the_bounds_are_ordinary_not_found(client: TestClient, team: ApiTeam) -> None:
    root = team.auth("root")
    for number in (1, MAX_INT32):
        response = client.get(f"/api/tasks/{number}", headers=root)
        assert response.status_code == 404 and f"task {number} not found" in response.json()["error"]
    _assert_refused(client.get("/api/tasks/0", headers=root), "path.task_id")
    _assert_refused(client.get("/api/tasks/-1", headers=root), "path.task_id")


def test_framework_errors_have_the_error_shape(client: TestClient, team: ApiTeam) -> None:
    missing = client.get("/api/no-such-route", headers=team.auth("root"))
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
    wrong_method = client.delete("/api/projects", headers=team.auth("root"))
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()
    assert "allow" in wrong_method.headers
