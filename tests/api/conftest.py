"""A real app on each test database, driven over HTTP by httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.api.app import create_app
from labelpilot.services import accounts
from labelpilot.settings import Settings


@pytest.fixture
def app_settings(db_engine: Engine, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path,
        database_url=db_engine.url.render_as_string(hide_password=False),
        blob_root=str(tmp_path / "blobs"),
        max_body_kb=64,
        max_upload_mb=1,
    )


@pytest.fixture
def api_app(app_settings: Settings) -> Iterator[FastAPI]:
    app = create_app(app_settings, migrate=False)
    yield app
    app.state.labelpilot.engine.dispose()


@pytest.fixture
def client(api_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(api_app) as test_client:
        yield test_client


@dataclass
class Login:
    name: str
    csrf: str
    client: TestClient

    def headers(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}


def make_user(db_factory: sessionmaker[Session], name: str, *, admin: bool = False) -> str:
    password = f"{name}-password"
    with db_factory.begin() as s:
        accounts.create_user(s, name, password, is_admin=admin)
    return password


def login(client: TestClient, name: str, password: str) -> Login:
    response = client.post("/api/auth/login", json={"name": name, "password": password})
    assert response.status_code == 200, response.text
    return Login(name, response.json()["csrf_token"], client)
