"""The KPI routes and the project settings over HTTP (in-process), on SQLite and PostgreSQL: the JSON
and CSV answers agree, settings are validated and change what the KPIs show."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.kpi.tally import KPI_FIELDS
from labelpilot.services import accounts, projects
from labelpilot.services.actors import SYSTEM, Role
from tests.api.authz_world import World, make_world


@pytest.fixture
def world(api_app: FastAPI, db_factory: sessionmaker[Session]) -> World:
    return make_world(api_app, db_factory)


def _get(client: TestClient, world: World, url: str, who: str = "meg", **params: Any) -> Any:
    response = client.get(url, params=params, headers=world.team.auth(who))
    assert response.status_code == 200, response.text
    return response


def _draw(client: TestClient, world: World) -> None:
    """ann draws a track in her task (one keyframe: a life of one frame, one shape once delivered)."""
    body = {
        "label": "Car",
        "size": [4.2, 1.8, 1.5],
        "keyframes": {"1": {"center": [1.0, 2.0, 0.5], "yaw": 0.3}},
        "task_id": world.ann_task,
    }
    response = client.post(f"/api/scenes/{world.scene_id}/tracks", json=body, headers=world.team.auth("ann"))
    assert response.status_code == 201, response.text


def test_the_csv_is_the_people_table_of_the_json(client: TestClient, world: World) -> None:
    with world.db.begin() as s:
        accounts.create_user(s, "=HYPERLINK(1)", None)
        projects.set_member(s, SYSTEM, world.project_id, "=HYPERLINK(1)", Role.ANNOTATOR)
    _draw(client, world)
    submitted = client.post(f"/api/tasks/{world.ann_task}/submit", json={}, headers=world.team.auth("ann"))
    assert submitted.status_code == 200, submitted.text
    url = f"/api/projects/{world.project_id}/kpis"
    team = _get(client, world, url).json()
    assert team["people"][0]["user"] == "ann" and team["people"][0]["shapes"] == 1
    assert team["team"]["shapes"] == 1 and team["team"]["tracks_drawn"] == 1
    answer = _get(client, world, url, format="csv")
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        answer.headers["content-disposition"]
        == f'attachment; filename="project-{world.project_id}-kpis-people.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(rows[0]) == ["user", *KPI_FIELDS]
    assert [row["user"] for row in rows] == [
        "'" + p["user"] if p["user"].startswith("=") else p["user"] for p in team["people"]
    ]
    assert "'=HYPERLINK(1)" in [row["user"] for row in rows]  # never a formula in a spreadsheet
    for row, person in zip(rows, team["people"], strict=True):
        for name in KPI_FIELDS:
            assert row[name] == ("" if person[name] is None else str(person[name])), (person["user"], name)
    assert _get(client, world, url, format="json").json() == team
    refused = client.get(url, params={"format": "xlsx"}, headers=world.team.auth("meg"))
    assert refused.status_code == 422 and refused.json()["field"] == "query.format"
    classes = list(csv.DictReader(io.StringIO(_get(client, world, url, format="csv", table="classes").text)))
    assert [(row["label"], row["shapes"], row["tracks_drawn"]) for row in classes] == [("Car", "1", "1")]
    days = list(csv.DictReader(io.StringIO(_get(client, world, url, format="csv", table="days").text)))
    assert [row["day"] for row in days] == [d["day"] for d in team["days"]]
    people_days = _get(client, world, url, format="csv", table="people_days").text
    rows_by_day = [
        (row["user"], row["day"], row["shapes"]) for row in csv.DictReader(io.StringIO(people_days))
    ]
    assert ("ann", team["days"][-1]["day"], "1") in rows_by_day
    assert rows_by_day == [(d["user"], d["day"], str(d["shapes"])) for d in team["people_days"]]
    refused = client.get(url, params={"format": "csv", "table": "tasks"}, headers=world.team.auth("meg"))
    assert refused.status_code == 422 and refused.json()["field"] == "query.table"


def test_settings_are_validated_and_change_the_kpis(client: TestClient, world: World) -> None:
    url = f"/api/projects/{world.project_id}"
    listed = _get(client, world, "/api/projects", who="ann").json()
    assert listed == [
        {
            "id": world.project_id,
            "name": "streets",
            "role": "annotator",
            "hourly_cost_eur": 25.0,
            "show_peer_names": False,
        }
    ]
    for bad in [
        {"hourly_cost_eur": -1},
        {"hourly_cost_eur": 1e9},
        {"hourly_cost_eur": "a lot"},
        {"peer_names": True},
    ]:
        response = client.patch(url, json=bad, headers=world.team.auth("meg"))
        assert response.status_code == 422, (bad, response.text)
    changed = client.patch(url, json={"hourly_cost_eur": 40}, headers=world.team.auth("meg"))
    assert changed.status_code == 200, changed.text
    assert (changed.json()["hourly_cost_eur"], changed.json()["show_peer_names"]) == (40.0, False)
    unchanged = client.patch(url, json={}, headers=world.team.auth("meg"))
    assert unchanged.json() == changed.json()
    mine = _get(client, world, "/api/kpis/me", who="meg", project_id=world.project_id).json()
    assert mine["hourly_cost_eur"] == 40.0 and mine["user"] == "meg"
    # rita (a reviewer) sees peers by number until the manager shows names.
    rita = _get(client, world, f"{url}/kpis", who="rita").json()
    assert {p["user"] for p in rita["people"]} - {"rita"} == {
        f"peer {n}" for n in range(1, len(rita["people"]))
    }
    assert (
        client.patch(url, json={"show_peer_names": True}, headers=world.team.auth("meg")).status_code == 200
    )
    named = _get(client, world, f"{url}/kpis", who="rita").json()
    assert {p["user"] for p in named["people"]} == {"ann", "abe", "rita", "cora", "meg"}
    missing = client.get("/api/kpis/me", headers=world.team.auth("ann"))
    assert missing.status_code == 422 and missing.json()["field"] == "query.project_id"


def test_a_member_can_cost_their_own_rate(client: TestClient, world: World) -> None:
    _draw(client, world)
    assert (
        client.post(
            f"/api/tasks/{world.ann_task}/submit", json={}, headers=world.team.auth("ann")
        ).status_code
        == 200
    )
    kpis = f"/api/projects/{world.project_id}/kpis"

    def ann() -> dict[str, Any]:
        team = _get(client, world, kpis).json()
        return next(p for p in team["people"] if p["user"] == "ann")

    before = ann()
    member = f"/api/projects/{world.project_id}/members/ann"
    for bad in [{"hourly_cost_eur": -1}, {"hourly_cost_eur": "a lot"}, {"cost": 3}]:
        assert client.patch(member, json=bad, headers=world.team.auth("meg")).status_code == 422, bad
    assert (
        client.patch(member, json={"hourly_cost_eur": 50}, headers=world.team.auth("ann")).status_code == 403
    )
    missing = client.patch(
        f"/api/projects/{world.project_id}/members/nobody",
        json={"hourly_cost_eur": 5},
        headers=world.team.auth("meg"),
    )
    assert missing.status_code == 404
    changed = client.patch(member, json={"hourly_cost_eur": 50}, headers=world.team.auth("meg"))
    assert changed.status_code == 200 and changed.json() == {
        "name": "ann",
        "role": "annotator",
        "hourly_cost_eur": 50.0,
    }
    after = ann()
    # Twice the project's 25 EUR an hour: half the shapes per Euro, the same pace.
    assert after["shapes_per_euro"] == pytest.approx(before["shapes_per_euro"] / 2)
    assert after["shapes_per_hour"] == pytest.approx(before["shapes_per_hour"])
    # What someone earns is for managers' eyes only.
    costs = {
        m["name"]: m["hourly_cost_eur"]
        for m in _get(client, world, f"/api/projects/{world.project_id}/members").json()
    }
    assert costs["ann"] == 50.0 and costs["abe"] is None
    seen_by_ann = _get(client, world, f"/api/projects/{world.project_id}/members", who="ann").json()
    assert all(m["hourly_cost_eur"] is None for m in seen_by_ann)
    assert (
        client.patch(member, json={"hourly_cost_eur": None}, headers=world.team.auth("meg")).status_code
        == 200
    )
    assert ann()["shapes_per_euro"] == pytest.approx(before["shapes_per_euro"])
