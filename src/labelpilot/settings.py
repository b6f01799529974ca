"""All run-time settings in one object, read from ``LABELPILOT_*`` environment variables."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
"""Where `npm ci` (run by `make install`) puts the front-end packages in a source checkout."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LABELPILOT_", extra="ignore")

    home: Path = Field(
        default=Path(".labelpilot"),
        description="Directory for the embedded database and the local blob store.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite file labelpilot.db under home. "
        "Teams: postgresql+psycopg://user@host/db.",
    )
    blob_root: str | None = Field(
        default=None,
        description="fsspec URL of the sensor blob store (a directory or e.g. s3://bucket/prefix); default: home/blobs.",
    )
    session_hours: float = Field(default=12.0, description="Lifetime of a browser session.", gt=0)
    max_upload_mb: float = Field(default=512.0, description="Largest accepted upload (imports).", gt=0)
    max_body_kb: float = Field(default=256.0, description="Largest accepted JSON request body.", gt=0)
    cookie_secure: bool = Field(default=False, description="Send the session cookie only over HTTPS.")
    kpi_idle_seconds: float = Field(
        default=120.0,
        description="Longest gap between two events of a person that still counts as active time (KPIs).",
        gt=0,
    )
    web_vendor_dir: Path = Field(
        default=REPO_NODE_MODULES,
        description="The npm packages the browser pages load (three.js is served from its three/ folder).",
    )

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'labelpilot.db').resolve()}"

    @cached_property
    def resolved_blob_root(self) -> str:
        return self.blob_root or str((self.home / "blobs").resolve())


def documented_setting_names() -> list[str]:
    """The environment variable of every setting, for docs and the docs test."""
    return [f"LABELPILOT_{name.upper()}" for name in Settings.model_fields]
