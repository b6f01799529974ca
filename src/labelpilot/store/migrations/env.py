"""Alembic environment: migrations run against the URL handed over in the Alembic config."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from labelpilot.store import kpi_tables, pose_tables  # noqa: F401  (their tables join Base.metadata)
from labelpilot.store.db import make_engine
from labelpilot.store.tables import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
