"""Tell live listeners (the KPI stream) that a project has new events, once they are committed.

``record_event`` notes the event's project on the database session; when the session commits, the
broadcaster attached to its session factory wakes every subscriber of those projects. A rollback
forgets the notes, so nobody hears of work that did not happen. In-process only: subscribers are the
asyncio tasks of this server; other processes writing to the database are not heard.

Commits happen in worker threads and subscribers wait on the event loop, so a notification is handed
over with ``loop.call_soon_threadsafe``. A subscriber is only told "something changed" (a flag, not a
queue): however many events arrive while it computes, it recomputes once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

PENDING_PROJECTS = "labelpilot.pending_project_events"
"""Key in ``Session.info``: ids of projects with events recorded in the open transaction."""


def note_project_event(session: Session, project_id: int) -> None:
    """Remember that the session's transaction recorded an event of the project."""
    pending: set[int] = session.info.setdefault(PENDING_PROJECTS, set())
    pending.add(project_id)


class Subscription:
    """One listener's wake-up flag, waited on in the event loop it was made in."""

    def __init__(self, project_id: int, loop: asyncio.AbstractEventLoop) -> None:
        self.project_id = project_id
        self._loop = loop
        self._changed = asyncio.Event()

    def notify(self) -> None:
        """Safe from any thread; a loop that has closed is not woken."""
        with suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._changed.set)

    async def wait(self, timeout: float) -> bool:
        """True when the project changed since the last wait, False after ``timeout`` seconds of quiet."""
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            return False
        self._changed.clear()
        return True


class EventBroadcaster:
    """Who listens to which project; ``generation`` counts the publications of each project, so that
    a listener can tell whether what it computed is still current."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[int, set[Subscription]] = {}
        self._generations: dict[int, int] = {}

    def attach(self, factory: sessionmaker[Session]) -> None:
        """Publish after every commit of the factory's sessions that recorded events."""
        event.listen(factory, "after_commit", self._after_commit)
        event.listen(factory, "after_rollback", _forget)

    def _after_commit(self, session: Session) -> None:
        if session.in_nested_transaction():
            return  # a SAVEPOINT was released; nothing is visible to others before the real commit
        pending: set[int] = session.info.pop(PENDING_PROJECTS, set())
        for project_id in sorted(pending):
            self.publish(project_id)

    def publish(self, project_id: int) -> None:
        with self._lock:
            self._generations[project_id] = self._generations.get(project_id, 0) + 1
            subscribers = list(self._subscribers.get(project_id, ()))
        for subscription in subscribers:
            subscription.notify()

    def generation(self, project_id: int) -> int:
        with self._lock:
            return self._generations.get(project_id, 0)

    def subscriber_count(self, project_id: int) -> int:
        with self._lock:
            return len(self._subscribers.get(project_id, ()))

    @contextmanager
    def subscribe(self, project_id: int) -> Iterator[Subscription]:
        """A subscription to the project in the running event loop, removed on exit."""
        subscription = Subscription(project_id, asyncio.get_running_loop())
        with self._lock:
            self._subscribers.setdefault(project_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            with self._lock:
                remaining = self._subscribers.get(project_id, set())
                remaining.discard(subscription)
                if not remaining:
                    self._subscribers.pop(project_id, None)


def _forget(session: Session) -> None:
    # A SAVEPOINT rolled back may have held only some of the events: keep the notes (a needless
    # recomputation at worst). The whole transaction rolled back: none of them happened.
    if not session.in_nested_transaction():
        session.info.pop(PENDING_PROJECTS, None)
