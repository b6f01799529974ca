"""Property-based requests from the OpenAPI schema (schemathesis): no operation answers with a 5xx.

Runs in-process against the ASGI app on SQLite, as an administrator (bearer token) in a project with
a real scene, tasks and tracks, so that generated ids often hit real objects. The example budget is
fixed and generation derandomized, so a run is repeatable and bounded in time.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.api.app import create_app
from labelpilot.settings import Settings
from labelpilot.store.db import make_session_factory
from tests.api.authz_world import World, make_world

EXAMPLES_PER_OPERATION = 25


@pytest.fixture
def sqlite_app(sqlite_template: Path, tmp_path: Path) -> Iterator[FastAPI]:
    database = tmp_path / "labelpilot.db"
    shutil.copy(sqlite_template, database)
    app = create_app(
        Settings(
            home=tmp_path,
            database_url=f"sqlite:///{database}",
            blob_root=str(tmp_path / "blobs"),
            max_body_kb=64,
            max_upload_mb=1,
        ),
        migrate=False,
    )
    yield app
    app.state.labelpilot.engine.dispose()


@pytest.fixture
def world(sqlite_app: FastAPI) -> World:
    factory: sessionmaker[Session] = make_session_factory(sqlite_app.state.labelpilot.engine)
    return make_world(sqlite_app, factory)


def _real_path_parameters(world: World, path: str) -> dict[str, object]:
    """Path parameters that name real objects of the world (a fresh work track for track routes)."""
    known: dict[str, Callable[[], object]] = {
        "project_id": lambda: world.project_id,
        "scene_id": lambda: world.scene_id,
        "task_id": lambda: world.ann_task,
        "track_id": world.work_track,
        "frame_index": lambda: 1,
        "frame": lambda: 1,
        "camera": lambda: "front",
        "user_name": lambda: "abe",
        "layer": lambda: "ground_truth",
    }
    return {name: known[name]() for name in re.findall(r"\{(\w+)\}", path)}


def _server_errors(operation: APIOperation[Any, Any, Any, Any], world: World) -> list[str]:
    """Run the operation's examples; every 5xx (or crash) found, as text.

    Examples are valid and invalid requests with generated parameters, and valid requests whose path
    names real objects (generated ids rarely do), so that bodies are also tried against real tracks."""
    found: list[str] = []
    headers = world.team.auth("root")
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
        operation.as_strategy(
            GenerationMode.POSITIVE, path_parameters=_real_path_parameters(world, operation.path)
        ),
    )

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def run(case: Case[Any]) -> None:
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])

    try:
        run()
    except Exception as error:  # hypothesis re-raises the shrunk failure
        found.append(f"{operation.method.upper()} {operation.path}: {type(error).__name__}: {error}")
    return found


def test_no_operation_answers_with_a_server_error(sqlite_app: FastAPI, world: World) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", sqlite_app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operation = result.ok()
        operations += 1
        failures += _server_errors(operation, world)
    assert operations == sum(len(ops) for ops in sqlite_app.openapi()["paths"].values())
    assert not failures, "\n\n".join(failures)
