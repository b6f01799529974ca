"""Dependencies shared by the routers: the database session, the blob store and the current user.

Authentication: a browser sends the session cookie (and, for unsafe methods, the CSRF token in the
``X-CSRF-Token`` header); scripts send a personal token as ``Authorization: Bearer``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from labelpilot.api.state import AppState
from labelpilot.services import accounts
from labelpilot.services.actors import Actor
from labelpilot.services.errors import ForbiddenError, UnauthenticatedError
from labelpilot.store.blobs import BlobStore

SESSION_COOKIE = "labelpilot_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.labelpilot
    return state


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error."""
    with app_state(request).sessions() as session, session.begin():
        yield session


def blob_store(request: Request) -> BlobStore:
    return app_state(request).blobs


DB_CONCURRENCY = 16
"""Requests holding a database session at once. The rest wait without holding a worker thread, so a
burst of clients can never starve the request that holds a lock (measured: 50 clients on 40 threads
deadlocked until timeouts fired). Keep it below the engine's pool size (store/db.py)."""

# scope="function": commit before the response is sent, so a 200 always means committed.
SessionDep = Annotated[Session, Depends(db_session, scope="function", max_concurrency=DB_CONCURRENCY)]
BlobsDep = Annotated[BlobStore, Depends(blob_store)]


def current_actor(request: Request, session: SessionDep) -> Actor:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = accounts.user_for_token(session, header[7:].strip())
        return accounts.actor_of(user)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise UnauthenticatedError("log in, or send a personal API token as 'Authorization: Bearer'")
    user, csrf = accounts.user_for_login_session(session, cookie)
    if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != csrf:
        raise ForbiddenError(f"missing or wrong {CSRF_HEADER} header")
    return accounts.actor_of(user)


CurrentActor = Annotated[Actor, Depends(current_actor)]
