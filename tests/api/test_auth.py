"""Login sessions with CSRF, bearer tokens, and authentication on every route."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.api.conftest import login, make_user


def test_health_needs_no_login(client: TestClient) -> None:
    assert client.get("/api/health").json() == {"status": "ok"}


def test_login_sets_an_httponly_samesite_cookie(
    client: TestClient, db_factory: sessionmaker[Session]
) -> None:
    password = make_user(db_factory, "alice")
    response = client.post("/api/auth/login", json={"name": "alice", "password": password})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/api/auth/me").json()["user"]["name"] == "alice"


def test_wrong_password_is_401(client: TestClient, db_factory: sessionmaker[Session]) -> None:
    make_user(db_factory, "alice")
    response = client.post("/api/auth/login", json={"name": "alice", "password": "not-it"})
    assert response.status_code == 401
    assert "wrong user name or password" in response.json()["error"]


def test_unsafe_methods_need_the_csrf_token(client: TestClient, db_factory: sessionmaker[Session]) -> None:
    password = make_user(db_factory, "root", admin=True)
    session = login(client, "root", password)
    refused = client.post("/api/projects", json={"name": "p1"})
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["error"]
    created = client.post("/api/projects", json={"name": "p1"}, headers=session.headers())
    assert created.status_code == 201, created.text


def test_bearer_tokens_work_without_cookies(client: TestClient, db_factory: sessionmaker[Session]) -> None:
    password = make_user(db_factory, "root", admin=True)
    session = login(client, "root", password)
    token = client.post("/api/tokens", json={"name": "script"}, headers=session.headers()).json()["token"]
    client.cookies.clear()
    assert client.get("/api/projects").status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/projects", json={"name": "p2"}, headers=auth).status_code == 201
    assert client.get("/api/projects", headers={"Authorization": "Bearer lp_wrong"}).status_code == 401


def test_logout_ends_the_session(client: TestClient, db_factory: sessionmaker[Session]) -> None:
    password = make_user(db_factory, "alice")
    session = login(client, "alice", password)
    assert client.post("/api/auth/logout", headers=session.headers()).status_code == 204
    assert client.get("/api/auth/me").status_code == 401


def test_every_route_but_login_and_health_requires_authentication(
    api_app: FastAPI, client: TestClient
) -> None:
    open_routes = {("POST", "/api/auth/login"), ("GET", "/api/health")}
    checked = 0
    for path, operations in api_app.openapi()["paths"].items():
        for method in operations:
            if (method.upper(), path) in open_routes:
                continue
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            response = client.request(method.upper(), concrete, json={})
            assert response.status_code == 401, f"{method} {path} answered {response.status_code}"
            checked += 1
    assert checked >= 5


def test_oversized_bodies_are_refused(client: TestClient, db_factory: sessionmaker[Session]) -> None:
    password = make_user(db_factory, "root", admin=True)
    session = login(client, "root", password)
    response = client.post("/api/projects", json={"name": "x" * 100_000}, headers=session.headers())
    assert response.status_code == 413


def test_validation_errors_name_the_field(client: TestClient, db_factory: sessionmaker[Session]) -> None:
    password = make_user(db_factory, "root", admin=True)
    session = login(client, "root", password)
    response = client.post("/api/projects", json={"title": "p"}, headers=session.headers())
    assert response.status_code == 422
    assert response.json()["field"] == "body.name"
