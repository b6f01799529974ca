"""Live KPIs: a person's dashboard now and again after every committed event of the project.

Every listener of a project wakes on the same commit; the project's KPIs are computed once for them
all (one snapshot per broadcaster generation, in a worker thread, with a short database session) and
only the cheap per-person part is done per listener. No database session stays open while a listener
waits. At most ``max_concurrent`` snapshots are computed at once, so that live dashboards cannot take
the connections that requests need.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services.actors import Actor
from labelpilot.services.errors import NotFoundError
from labelpilot.services.event_broadcast import EventBroadcaster
from labelpilot.services.kpi_reports import KpiSnapshot, personal_kpis, take_snapshot
from labelpilot.store.db import transaction

MAX_SNAPSHOT_AGE_SECONDS = 60.0
"""Recompute at least this often even without events: the weekly windows move with the clock."""


@dataclass(frozen=True)
class _Cached:
    generation: int
    taken_at: float
    snapshot: KpiSnapshot


class LiveKpis:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        broadcaster: EventBroadcaster,
        *,
        idle_seconds: float,
        max_concurrent: int = 4,
    ) -> None:
        self._sessions = sessions
        self._broadcaster = broadcaster
        self._idle_seconds = idle_seconds
        self._max_concurrent = max_concurrent
        self._limiter: anyio.CapacityLimiter | None = None
        self._locks: dict[int, asyncio.Lock] = {}
        self._cache: dict[int, _Cached] = {}

    def _take(self, project_id: int) -> KpiSnapshot:
        with transaction(self._sessions) as session:
            return take_snapshot(session, project_id, idle_seconds=self._idle_seconds)

    @property
    def _threads(self) -> anyio.CapacityLimiter:
        if self._limiter is None:  # made in the event loop that uses it
            self._limiter = anyio.CapacityLimiter(self._max_concurrent)
        return self._limiter

    async def snapshot(self, project_id: int) -> KpiSnapshot:
        """The project's KPIs, no older than its latest published event (computed once for everyone)."""
        lock = self._locks.setdefault(project_id, asyncio.Lock())
        async with lock:
            # Read before computing: an event committed meanwhile bumps the generation past this one.
            generation = self._broadcaster.generation(project_id)
            cached = self._cache.get(project_id)
            if (
                cached is not None
                and cached.generation >= generation
                and time.monotonic() - cached.taken_at < MAX_SNAPSHOT_AGE_SECONDS
            ):
                return cached.snapshot
            snapshot = await anyio.to_thread.run_sync(self._take, project_id, limiter=self._threads)
            self._cache[project_id] = _Cached(generation, time.monotonic(), snapshot)
            return snapshot

    async def personal_updates(
        self, actor: Actor, project_id: int, *, once: bool, keepalive_seconds: float
    ) -> AsyncGenerator[dict[str, Any] | None, None]:
        """The actor's ``personal_kpis`` now and after each change of the project; None after every
        ``keepalive_seconds`` of quiet. Ends when the actor is no longer a member (or the project is
        gone), and after the first answer with ``once``. The caller checks access before it starts."""
        try:
            with self._broadcaster.subscribe(project_id) as subscription:
                while True:
                    try:
                        snapshot = await self.snapshot(project_id)
                    except NotFoundError:
                        return
                    if not actor.is_admin and actor.user_id not in snapshot.activity.roles:
                        return
                    yield await anyio.to_thread.run_sync(
                        personal_kpis, snapshot, actor, limiter=self._threads
                    )
                    if once:
                        return
                    while not await subscription.wait(keepalive_seconds):
                        yield None
        finally:
            if self._broadcaster.subscriber_count(project_id) == 0:
                self._cache.pop(project_id, None)
