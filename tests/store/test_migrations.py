"""The Alembic migrations on a fresh SQLite file and a fresh PostgreSQL database: the schema they build
is the one the tables declare, and 0003 (the projects' KPI settings) fills existing rows and goes back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

from labelpilot.store import kpi_tables, pose_tables  # noqa: F401  (their tables join Base.metadata)
from labelpilot.store.db import make_engine
from labelpilot.store.migrate import alembic_config, upgrade
from labelpilot.store.tables import DEFAULT_HOURLY_COST_EUR, Base
from tests.database import BACKENDS, PG_ADMIN_URL


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database with no tables at all (not the migrated template the other tests share)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        engine.dispose()
        return
    name = f"labelpilot_migrations_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _schema_differences(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))


def _project_columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("projects")}


def test_the_migrations_build_exactly_the_declared_schema(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    assert _schema_differences(empty_engine) == []
    with empty_engine.connect() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == "0006"


def test_0003_gives_existing_projects_the_default_settings_and_goes_back(empty_engine: Engine) -> None:
    upgrade(empty_engine, "0002")
    assert {"hourly_cost_eur", "show_peer_names"}.isdisjoint(_project_columns(empty_engine))
    with empty_engine.begin() as conn:
        conn.execute(
            text("INSERT INTO projects (name, created_at) VALUES ('before', :at)"),
            {"at": "2026-12-01 10:00:00+00:00"},
        )
    upgrade(empty_engine)
    with empty_engine.begin() as conn:
        row = conn.execute(text("SELECT name, hourly_cost_eur, show_peer_names FROM projects")).one()
        assert (row.name, row.hourly_cost_eur, bool(row.show_peer_names)) == (
            "before",
            DEFAULT_HOURLY_COST_EUR,
            False,
        )
        # The columns are NOT NULL with server defaults: a plain INSERT (another tool) still works.
        conn.execute(
            text("INSERT INTO projects (name, created_at) VALUES ('after', :at)"), {"at": "2026-12-02"}
        )
        conn.execute(
            text("UPDATE projects SET hourly_cost_eur = 31.5, show_peer_names = :yes"), {"yes": True}
        )
    _downgrade(empty_engine, "0002")
    assert {"hourly_cost_eur", "show_peer_names"}.isdisjoint(_project_columns(empty_engine))
    with empty_engine.connect() as conn:
        assert conn.scalars(text("SELECT name FROM projects ORDER BY id")).all() == ["before", "after"]
    upgrade(empty_engine)
    assert _schema_differences(empty_engine) == []
    with empty_engine.connect() as conn:
        rows = conn.execute(text("SELECT hourly_cost_eur, show_peer_names FROM projects")).all()
    assert [(cost, bool(show)) for cost, show in rows] == [(DEFAULT_HOURLY_COST_EUR, False)] * 2
