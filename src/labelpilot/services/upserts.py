"""INSERT ... ON CONFLICT for both of our database engines (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Any) -> Any:
    """An INSERT of ``table`` that can say ON CONFLICT, in the dialect of the session's database."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def upsert(
    session: Session, table: Any, keys: Sequence[str], rows: list[dict[str, Any]], *, add: bool
) -> None:
    """Insert ``rows``; where a row with the same ``keys`` exists, add the other columns to it
    (``add``) or replace them."""
    if not rows:
        return
    statement = insert_for(session, table)
    others = [name for name in rows[0] if name not in keys]
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={
            name: (table.c[name] + statement.excluded[name]) if add else statement.excluded[name]
            for name in others
        },
    )
    session.execute(statement, rows)
