"""The live KPI stream over real HTTP: the app under uvicorn on a free loopback port (in a thread), SSE
clients reading with httpx2, and edits made by other clients; on SQLite and PostgreSQL.

The world is the authorization matrix's: the real SUSTechPOINTS scene, ann's task in progress.
"""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services.event_broadcast import EventBroadcaster
from tests.api.authz_world import World, make_world

DELIVERY_SECONDS = 1.0
"""An event must reach a connected client within a second of the commit."""
STREAM_CLIENTS = 20
"""More streams than the API's database concurrency (api/deps.py: 16)."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def world(api_app: FastAPI, db_factory: sessionmaker[Session]) -> World:
    return make_world(api_app, db_factory)


@pytest.fixture
def server_url(api_app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn in a thread; stopped (open streams cut after 1 s) at the end."""
    config = uvicorn.Config(
        api_app, host="127.0.0.1", port=_free_port(), log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        assert not thread.is_alive(), "uvicorn did not stop"


@dataclass(frozen=True)
class Message:
    event: str | None
    """the event name; None for a comment"""
    data: Any
    fields: dict[str, str]
    received_at: float


class StreamReader:
    """Reads one server-sent event stream in a thread; complete messages arrive in ``messages``."""

    def __init__(self, base_url: str, headers: dict[str, str], params: dict[str, Any]) -> None:
        self.messages: queue.Queue[Message] = queue.Queue()
        self.opened = threading.Event()
        self.status: int | None = None
        self.content_type = ""
        self._socket: socket.socket | None = None
        self._client = httpx2.Client(base_url=base_url, timeout=httpx2.Timeout(30.0, read=None))
        self._args = (headers, params)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        headers, params = self._args
        fields: dict[str, str] = {}
        try:
            with self._client.stream("GET", "/api/kpis/stream", headers=headers, params=params) as response:
                self.status = response.status_code
                self.content_type = response.headers.get("content-type", "")
                self._socket = response.extensions["network_stream"].get_extra_info("socket")
                self.opened.set()
                for line in response.iter_lines():
                    if line.startswith(":"):
                        self.messages.put(Message(None, line[1:].strip(), {}, time.monotonic()))
                    elif line:
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
                    elif fields:
                        data = json.loads(fields["data"]) if "data" in fields else None
                        self.messages.put(Message(fields.get("event"), data, fields, time.monotonic()))
                        fields = {}
        except httpx2.HTTPError:
            pass  # closed by the test, or the server stopped
        finally:
            self.opened.set()

    def next_event(self, timeout: float) -> Message:
        """The next ``kpi`` event (comments skipped); fails after ``timeout`` seconds without one."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                message = self.messages.get(timeout=max(remaining, 0.0))
            except queue.Empty:
                raise AssertionError(f"no kpi event within {timeout} s") from None
            if message.event is not None:
                return message

    def close(self) -> None:
        """Hang up, as a browser tab that is closed: the read in the thread ends at once."""
        if self._socket is not None:
            with suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        assert not self._thread.is_alive()
        self._client.close()


@pytest.fixture
def streams() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def _open(streams: ExitStack, url: str, world: World, who: str, **params: Any) -> StreamReader:
    reader = StreamReader(url, world.team.auth(who), {"project_id": world.project_id, **params})
    streams.callback(reader.close)
    assert reader.opened.wait(10)
    return reader


def _nudge(world: World) -> dict[str, Any]:
    return {
        "kind": "nudge_shown",
        "payload": {"nudge_kind": "make_stationary", "track_id": world.work_track()},
    }


def test_an_edit_by_another_client_reaches_the_stream_within_a_second(
    server_url: str, world: World, streams: ExitStack, api_app: FastAPI
) -> None:
    mine = _open(streams, server_url, world, "ann")
    watcher = _open(streams, server_url, world, "meg")
    assert (mine.status, mine.content_type) == (200, "text/event-stream; charset=utf-8")
    first = mine.next_event(10)
    assert (first.event, first.fields["retry"]) == ("kpi", "2000")
    assert first.data["user"] == "ann" and first.data["project_id"] == world.project_id
    assert first.data["totals"]["nudges_shown"] == 0
    assert set(first.data["peers"]) == {"shapes_per_hour", "shapes_per_euro", "seconds_per_shape"}
    assert watcher.next_event(10).data["user"] == "meg"
    broadcaster: EventBroadcaster = api_app.state.labelpilot.broadcaster
    assert broadcaster.subscriber_count(world.project_id) == 2

    nudge = _nudge(world)
    with httpx2.Client(base_url=server_url, headers=world.team.auth("ann"), timeout=30) as editor:
        answer = editor.post(f"/api/tasks/{world.ann_task}/events", json=nudge)
        committed = time.monotonic()  # a 201 means committed (api/deps.py)
        assert answer.status_code == 201, answer.text
        update = mine.next_event(DELIVERY_SECONDS)
        assert update.data["totals"]["nudges_shown"] == 1
        assert update.received_at - committed < DELIVERY_SECONDS
        # meg watches her own dashboard: the team changed, so she hears of it too.
        assert watcher.next_event(DELIVERY_SECONDS).data["user"] == "meg"
        # A refused edit commits nothing and is not announced.
        refused = editor.post(
            f"/api/tasks/{world.ann_task}/events", json={"kind": "heartbeat", "payload": {"x": 1}}
        )
        assert refused.status_code == 422
        with pytest.raises(AssertionError, match="no kpi event"):
            mine.next_event(0.5)
    mine.close()
    watcher.close()
    deadline = time.monotonic() + 5
    while broadcaster.subscriber_count(world.project_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert broadcaster.subscriber_count(world.project_id) == 0


def test_open_streams_hold_no_database_session(server_url: str, world: World, streams: ExitStack) -> None:
    readers = [_open(streams, server_url, world, name) for name in ["ann", "abe", "rita", "cora", "meg"] * 4]
    assert len(readers) == STREAM_CLIENTS
    for reader in readers:
        assert reader.next_event(20).event == "kpi"
    with httpx2.Client(base_url=server_url, headers=world.team.auth("meg"), timeout=10) as client:
        started = time.monotonic()
        assert client.get(f"/api/projects/{world.project_id}/kpis").status_code == 200
        assert time.monotonic() - started < 5
        assert (
            client.patch(f"/api/projects/{world.project_id}", json={"hourly_cost_eur": 40}).status_code == 200
        )
    # The new cost is an event of the project: every open stream recomputes.
    for reader in readers:
        assert reader.next_event(5).data["hourly_cost_eur"] == 40.0


def test_the_stream_refuses_who_may_not_see_the_project(server_url: str, world: World) -> None:
    with httpx2.Client(base_url=server_url, timeout=10) as client:
        params = {"project_id": world.project_id}
        assert client.get("/api/kpis/stream", params=params).status_code == 401
        assert (
            client.get("/api/kpis/stream", params=params, headers=world.team.auth("otto")).status_code == 404
        )
        once = client.get("/api/kpis/stream", params={**params, "once": 1}, headers=world.team.auth("root"))
        assert once.status_code == 200
        assert once.text.startswith("retry: 2000\nevent: kpi\ndata: {") and once.text.endswith("\n\n")
