"""Persistence: SQLAlchemy tables and sessions, Alembic migrations, the blob store."""
