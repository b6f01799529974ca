"""What the API needs at run time, built once per app."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services.event_broadcast import EventBroadcaster
from labelpilot.services.kpi_live import LiveKpis
from labelpilot.settings import Settings
from labelpilot.store.blobs import BlobStore


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    blobs: BlobStore
    broadcaster: EventBroadcaster
    """tells live listeners about committed events (attached to ``sessions``)"""
    live_kpis: LiveKpis
