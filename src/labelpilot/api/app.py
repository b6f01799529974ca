"""The FastAPI application: routers, error handlers, limits."""

from __future__ import annotations

from fastapi import FastAPI

from labelpilot import __version__
from labelpilot.api.errors import install_error_handlers
from labelpilot.api.limits import BodySizeLimit
from labelpilot.api.routers import (
    auth,
    automation,
    ego_poses,
    kpis,
    projects,
    scenes,
    stationary_review,
    tasks,
    tracks,
)
from labelpilot.api.state import AppState
from labelpilot.services.event_broadcast import EventBroadcaster
from labelpilot.services.kpi_live import LiveKpis
from labelpilot.settings import Settings
from labelpilot.store.blobs import BlobStore
from labelpilot.store.db import make_engine, make_session_factory
from labelpilot.store.migrate import upgrade
from labelpilot.web.pages import install_web


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.resolved_database_url)
    if migrate:
        upgrade(engine)
    app = FastAPI(title="LabelPilot", version=__version__)
    sessions = make_session_factory(engine)
    broadcaster = EventBroadcaster()
    broadcaster.attach(sessions)
    app.state.labelpilot = AppState(
        settings=settings,
        engine=engine,
        sessions=sessions,
        blobs=BlobStore(settings.resolved_blob_root),
        broadcaster=broadcaster,
        live_kpis=LiveKpis(sessions, broadcaster, idle_seconds=settings.kpi_idle_seconds),
    )
    install_error_handlers(app)
    for module in (auth, projects, scenes, tasks, tracks, automation, stationary_review, ego_poses, kpis):
        app.include_router(module.router)
    install_web(app, settings)
    app.add_middleware(
        BodySizeLimit,
        max_body_bytes=int(settings.max_body_kb * 1024),
        max_upload_bytes=int(settings.max_upload_mb * 1024 * 1024),
    )
    return app
