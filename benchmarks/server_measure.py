"""Measurements against a running API server: the lidar frame endpoint and track edits.

Every loop is bounded by a count, every request by a timeout. Latency is the client's wall time per
request (loopback, so mostly server time); the server's own view comes from the records of
``server_app.TimedApp`` (time to the response headers, and in total, i.e. including what runs after
the response is sent).
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx

from server_app import TIMINGS_PATH
from server_setup import EditTrack

REQUEST_TIMEOUT_S = 60.0
JITTER_M = 0.05
"""Each edit moves the keyframe's centre along x by this much, alternately forth and back."""


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def server_timings(base_url: str) -> list[dict[str, Any]]:
    """The server's records since the last call (and forget them there)."""
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        response = client.get(TIMINGS_PATH)
        response.raise_for_status()
        records: list[dict[str, Any]] = response.json()
        return records


def server_summary(records: list[dict[str, Any]], method: str) -> dict[str, Any]:
    """Server-side times of the ``method`` requests, overall and by answer status."""
    mine = [r for r in records if r["method"] == method]
    statuses = sorted({int(r["status"]) for r in mine})
    return {
        "headers_ms": summary([r["headers_ms"] for r in mine if "headers_ms" in r]),
        "total_ms": summary([r["total_ms"] for r in mine]),
        "after_response_ms": summary([r["total_ms"] - r["headers_ms"] for r in mine if "headers_ms" in r]),
        "total_ms_by_status": {
            str(status): summary([r["total_ms"] for r in mine if r["status"] == status])
            for status in statuses
        },
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class FrameRun:
    wall_ms: dict[str, float]
    bytes_per_response: float
    points_per_response: float
    not_modified_ms: dict[str, float]
    server: dict[str, Any]
    errors: dict[str, int]


def measure_frames(base_url: str, token: str, scene_id: int, frames: int, rounds: int) -> FrameRun:
    """GET every frame's sweep ``rounds`` times (after one warm-up pass), then revalidate each by ETag."""
    url = f"/api/scenes/{scene_id}/frames/{{}}/lidar"
    walls: list[float] = []
    sizes: list[int] = []
    points: list[int] = []
    revalidations: list[float] = []
    errors: Counter[str] = Counter()
    etags: dict[int, str] = {}
    with httpx.Client(base_url=base_url, headers=bearer(token), timeout=REQUEST_TIMEOUT_S) as client:
        for index in range(frames):
            client.get(url.format(index)).raise_for_status()
        server_timings(base_url)
        for _ in range(rounds):
            for index in range(frames):
                start = time.perf_counter()
                response = client.get(url.format(index))
                body = response.content
                walls.append((time.perf_counter() - start) * 1000.0)
                if response.status_code != 200:
                    errors[str(response.status_code)] += 1
                    continue
                sizes.append(len(body))
                points.append(int(response.headers["X-Point-Count"]))
                etags[index] = response.headers["ETag"]
        full = server_summary(server_timings(base_url), "GET")
        for index in range(frames):
            start = time.perf_counter()
            response = client.get(url.format(index), headers={"If-None-Match": etags[index]})
            revalidations.append((time.perf_counter() - start) * 1000.0)
            if response.status_code != 304:
                errors[f"revalidate {response.status_code}"] += 1
        server_timings(base_url)
    return FrameRun(
        wall_ms=summary(walls),
        bytes_per_response=statistics.fmean(sizes) if sizes else 0.0,
        points_per_response=statistics.fmean(points) if points else 0.0,
        not_modified_ms=summary(revalidations),
        server=full,
        errors=dict(errors),
    )


def _edit_request(track: EditTrack, step: int, task_id: int) -> tuple[str, dict[str, Any]]:
    """PUT of a keyframe the track already has, its centre nudged; the life (and answer size) stays."""
    frames = sorted(track.keyframes)
    frame = frames[step % len(frames)]
    pose = list(track.keyframes[frame])
    pose[3] += JITTER_M if step % 2 == 0 else -JITTER_M  # row-major 3x4: index 3 is x
    body = {"expected_version": track.version, "task_id": task_id, "pose": pose}
    return f"/api/tracks/{track.track_id}/keyframes/{frame}", body


def _absorb(track: EditTrack, response: httpx.Response, errors: Counter[str]) -> int:
    """Update the client's view of the track from an answer; returns the answer's size in bytes."""
    if response.status_code == 200:
        data = response.json()["track"]
        track.answered_ok += 1
    else:
        errors[str(response.status_code)] += 1
        current = response.json().get("current") if response.status_code == 409 else None
        if current is None:
            return len(response.content)
        data = current  # a 409 carries the current track: carry on from there, as the editor would
    track.version = int(data["version"])
    track.keyframes = {int(f): list(p) for f, p in data["keyframes"].items()}
    return len(response.content)


@dataclass(frozen=True)
class EditRun:
    clients: int
    edits: int
    elapsed_s: float
    wall_ms: dict[str, float]
    bytes_per_response: float
    errors: dict[str, int]
    server: dict[str, Any]

    @property
    def edits_per_s(self) -> float:
        return self.edits / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class Tally:
    """What the clients of one run saw: wall times, answer sizes, errors by kind."""

    walls: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


def _run_of(base_url: str, clients: int, elapsed: float, tally: Tally) -> EditRun:
    return EditRun(
        clients=clients,
        edits=len(tally.walls),
        elapsed_s=elapsed,
        wall_ms=summary(tally.walls),
        bytes_per_response=statistics.fmean(tally.sizes) if tally.sizes else 0.0,
        errors=dict(tally.errors),
        server=server_summary(server_timings(base_url), "PUT"),
    )


def sequential_edits(base_url: str, track: EditTrack, count: int) -> EditRun:
    tally = Tally()
    with httpx.Client(base_url=base_url, headers=bearer(track.token), timeout=REQUEST_TIMEOUT_S) as client:
        server_timings(base_url)
        begin = time.perf_counter()
        for step in range(count):
            path, body = _edit_request(track, step, track.task_id)
            start = time.perf_counter()
            response = client.put(path, json=body)
            tally.walls.append((time.perf_counter() - start) * 1000.0)
            tally.sizes.append(_absorb(track, response, tally.errors))
        elapsed = time.perf_counter() - begin
    return _run_of(base_url, 1, elapsed, tally)


async def _client_loop(
    base_url: str,
    track: EditTrack,
    login: tuple[str, int],
    count: int,
    start_gate: asyncio.Event,
    tally: Tally,
) -> None:
    """One editor: its own connection (as a browser has), edits sent one after another."""
    token, task_id = login
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(
        base_url=base_url, headers=bearer(token), timeout=REQUEST_TIMEOUT_S, limits=limits
    ) as client:
        await start_gate.wait()
        for step in range(count):
            path, body = _edit_request(track, step, task_id)
            start = time.perf_counter()
            try:
                response = await client.put(path, json=body)
            except httpx.HTTPError as err:
                tally.walls.append((time.perf_counter() - start) * 1000.0)
                tally.errors[type(err).__name__] += 1
                continue
            tally.walls.append((time.perf_counter() - start) * 1000.0)
            tally.sizes.append(_absorb(track, response, tally.errors))


async def _concurrent(
    base_url: str, tracks: Sequence[EditTrack], count: int, shared: tuple[str, int] | None, deadline_s: float
) -> tuple[float, Tally]:
    tally = Tally()
    gate = asyncio.Event()
    logins = [shared or (track.token, track.task_id) for track in tracks]
    jobs = [
        asyncio.create_task(_client_loop(base_url, track, login, count, gate, tally))
        for track, login in zip(tracks, logins, strict=True)
    ]
    await asyncio.sleep(0)  # every client waits at the gate, so that they all start together
    begin = time.perf_counter()
    gate.set()
    _done, late = await asyncio.wait(jobs, timeout=deadline_s)
    elapsed = time.perf_counter() - begin
    for job in late:
        job.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    for job in jobs:
        if not job.cancelled() and (error := job.exception()) is not None:
            raise error
    unfinished = len(tracks) * count - len(tally.walls)
    if unfinished:
        tally.errors[f"not done after {deadline_s:.0f} s"] = unfinished
    return elapsed, tally


def concurrent_edits(
    base_url: str,
    tracks: Sequence[EditTrack],
    count: int,
    deadline_s: float,
    shared: tuple[str, int] | None = None,
) -> EditRun:
    """Every track edited ``count`` times by its own client, all clients at once.

    ``shared`` = (token, task id) makes every client send that one token and task instead of its
    annotator's own. Clients still busy after ``deadline_s`` are cancelled; their edits not done
    count as errors, and the rate is over the edits done.
    """
    server_timings(base_url)
    elapsed, tally = asyncio.run(_concurrent(base_url, tracks, count, shared, deadline_s))
    return _run_of(base_url, len(tracks), elapsed, tally)
