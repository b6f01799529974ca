"""Many open KPI streams against a running server, and the delivery of one edit's update to all of them.

Every stream is a GET /api/kpis/stream read by its own task in one asyncio loop (httpx2, one
connection each). Once every stream has its first ``kpi`` event, each round lets one editing annotator
record a shown nudge (POST /api/tasks/{id}/events, answered 201 after the commit) and waits for the
next event of every stream. Delivery latency is the time from the edit's answer to the arrival of that
event (the end of its blank line, as this process parsed it: the client's own loop is included).

An update counts as correct when it shows the edit: on the editor's own streams ``nudges_shown`` has
grown by one; for a sample of the other people (their dashboards do not change with someone else's
nudge) the event equals what GET /api/kpis/me answers after the round, i.e. it was computed after
the commit, not from the cached snapshot of before.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx2

from server_measure import bearer, summary
from server_setup import EditTrack
from sse_process import cpu_seconds, memory_mb
from sse_setup import SseWorld, Viewer

CONNECT_TIMEOUT_S = 120.0
REQUEST_TIMEOUT_S = 60.0
NUDGE_KIND = "make_stationary"


@dataclass
class Stream:
    viewer: Viewer
    events: asyncio.Queue[tuple[float, dict[str, Any]]] = field(default_factory=asyncio.Queue)
    headers_at: float | None = None
    first_at: float | None = None
    error: str | None = None
    updates: int = 0
    """rounds whose update this stream got in time"""


@dataclass
class Round:
    editor: str
    edit_ms: float
    latencies_ms: list[float]
    """per stream that got the update in time, from the edit's answer"""
    missed: int
    wrong: int
    checked: int
    server_cpu_s: float


@dataclass
class SseRun:
    clients: int
    people: int
    connect_all_s: float
    connected: int
    connect_errors: dict[str, int]
    rounds: list[Round]
    every_update: int
    """streams that got every round's update in time"""
    memory_mb: dict[str, dict[str, float]]

    def latency_summary(self) -> dict[str, float]:
        return summary([ms for r in self.rounds for ms in r.latencies_ms])


async def _read(client: httpx2.AsyncClient, stream: Stream, project_id: int) -> None:
    """Parse the stream's events into ``stream.events`` until it ends or is cancelled."""
    params = {"project_id": project_id}
    headers = bearer(stream.viewer.token)
    try:
        async with client.stream("GET", "/api/kpis/stream", params=params, headers=headers) as response:
            if response.status_code != 200:
                stream.error = f"HTTP {response.status_code}"
                return
            stream.headers_at = time.perf_counter()
            name, data = "", []
            async for line in response.aiter_lines():
                if line.startswith(":"):
                    continue  # a comment: the keepalive
                if line:
                    key, _, value = line.partition(":")
                    if key == "event":
                        name = value.removeprefix(" ")
                    elif key == "data":
                        data.append(value.removeprefix(" "))
                    continue
                if name == "kpi" and data:
                    arrived = time.perf_counter()
                    stream.first_at = stream.first_at or arrived
                    stream.events.put_nowait((arrived, json.loads("\n".join(data))))
                name, data = "", []
    except httpx2.HTTPError as err:
        stream.error = type(err).__name__


def _drain(stream: Stream) -> int:
    stale = 0
    while not stream.events.empty():
        stream.events.get_nowait()
        stale += 1
    return stale


async def _next_event(stream: Stream, deadline: float) -> tuple[float, dict[str, Any]] | None:
    try:
        return await asyncio.wait_for(stream.events.get(), max(deadline - time.perf_counter(), 0.0))
    except TimeoutError:
        return None


async def _verify_sample(
    api: httpx2.AsyncClient, project_id: int, received: dict[str, tuple[Viewer, Any]], sample: int
) -> tuple[int, int]:
    """(checked, wrong): a sample of people's event of the round against their /api/kpis/me now."""
    names = random.sample(sorted(received), min(sample, len(received)))
    wrong = 0
    for name in names:
        viewer, event = received[name]
        params = {"project_id": project_id}
        answer = await api.get("/api/kpis/me", params=params, headers=bearer(viewer.token))
        wrong += int(answer.status_code != 200 or answer.json() != event)
    return len(names), wrong


async def _one_round(
    api: httpx2.AsyncClient,
    streams: list[Stream],
    world: SseWorld,
    editor: EditTrack,
    nudges: dict[str, int],
    timeout_s: float,
    verify: int,
    pid: int,
) -> Round:
    for stream in streams:
        _drain(stream)
    cpu_before = cpu_seconds(pid)
    body = {"kind": "nudge_shown", "payload": {"nudge_kind": NUDGE_KIND, "track_id": editor.track_id}}
    sent = time.perf_counter()
    answer = await api.post(f"/api/tasks/{editor.task_id}/events", json=body, headers=bearer(editor.token))
    answered = time.perf_counter()
    if answer.status_code != 201:
        raise RuntimeError(f"the edit was refused: {answer.status_code} {answer.text[:300]}")
    nudges[editor.annotator] = nudges.get(editor.annotator, 0) + 1
    deadline = answered + timeout_s
    arrivals = await asyncio.gather(*(_next_event(s, deadline) for s in streams))
    server_cpu = cpu_seconds(pid) - cpu_before
    latencies, wrong = [], 0
    received: dict[str, tuple[Viewer, Any]] = {}
    for stream, arrival in zip(streams, arrivals, strict=True):
        if arrival is None:
            continue
        at, event = arrival
        stream.updates += 1
        latencies.append((at - answered) * 1000.0)
        name = stream.viewer.name
        if name == editor.annotator:
            wrong += int(event["totals"]["nudges_shown"] != nudges[name])
        else:
            received[name] = (stream.viewer, event)
    checked, sample_wrong = await _verify_sample(api, world.project_id, received, verify)
    return Round(
        editor=editor.annotator,
        edit_ms=(answered - sent) * 1000.0,
        latencies_ms=latencies,
        missed=sum(1 for arrival in arrivals if arrival is None),
        wrong=wrong + sample_wrong,
        checked=checked + sum(1 for s in streams if s.viewer.name == editor.annotator),
        server_cpu_s=server_cpu,
    )


def people_order(world: SseWorld) -> list[Viewer]:
    """Editors first, then managers, then the other annotators: a small run still has both roles and
    streams of the people who edit."""
    editing = {e.annotator for e in world.editors}
    return sorted(world.viewers, key=lambda v: (v.name not in editing, v.role.value != "manager", v.name))


async def _connect(
    client: httpx2.AsyncClient, streams: list[Stream], project_id: int
) -> tuple[list[asyncio.Task[None]], float]:
    started = time.perf_counter()
    readers = [asyncio.create_task(_read(client, s, project_id)) for s in streams]
    deadline = started + CONNECT_TIMEOUT_S
    while time.perf_counter() < deadline and any(s.first_at is None and s.error is None for s in streams):
        await asyncio.sleep(0.01)
    firsts = [s.first_at for s in streams if s.first_at is not None]
    return readers, (max(firsts) - started) if firsts else float("nan")


async def run_streams(
    base_url: str, world: SseWorld, pid: int, *, clients: int, rounds: int, timeout_s: float, verify: int
) -> SseRun:
    people = people_order(world)
    streams = [Stream(people[index % len(people)]) for index in range(clients)]
    memory = {"before": memory_mb(pid)}
    limits = httpx2.Limits(max_connections=None, max_keepalive_connections=None)
    timeout = httpx2.Timeout(REQUEST_TIMEOUT_S, read=None)
    async with (
        httpx2.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client,
        httpx2.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as api,
    ):
        readers, connect_all_s = await _connect(client, streams, world.project_id)
        memory["connected"] = memory_mb(pid)
        nudges: dict[str, int] = {}
        done = []
        for index in range(rounds):
            editor = world.editors[index % len(world.editors)]
            done.append(await _one_round(api, streams, world, editor, nudges, timeout_s, verify, pid))
            await asyncio.sleep(0.5)  # let late writes settle so that rounds stay apart
        memory["after"] = memory_mb(pid)
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    errors: dict[str, int] = {}
    for stream in streams:
        if stream.first_at is None:
            key = stream.error or "no first event"
            errors[key] = errors.get(key, 0) + 1
    return SseRun(
        clients=clients,
        people=len({s.viewer.name for s in streams}),
        connect_all_s=connect_all_s,
        connected=sum(1 for s in streams if s.first_at is not None),
        connect_errors=errors,
        rounds=done,
        every_update=sum(1 for s in streams if s.updates == rounds),
        memory_mb=memory,
    )
