"""Live KPIs on SQLite and PostgreSQL: listeners hear of committed events only (not of rolled-back
ones, nor of a released SAVEPOINT before the real commit), get keepalives in between, and share one
computation of the project's KPIs per change."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import task_events, track_edits
from labelpilot.services.event_broadcast import EventBroadcaster
from labelpilot.services.kpi_live import LiveKpis
from tests.services.scene_rows import EditScene, make_edit_scene

KEEPALIVE = 0.2


class RollBackError(Exception):
    """Raised inside a transaction to roll it back."""


def _scene_with_a_work_track(db: sessionmaker[Session]) -> tuple[EditScene, int]:
    scene = make_edit_scene(db)
    with db.begin() as s:
        drawn = track_edits.create_track(
            s, scene.team.ann, scene.stored.scene_id, "work", "Car", [4.0, 1.8, 1.5],
            keyframes={"0": {"center": [5.0, 1.0, 0.8], "yaw": 0.0}}, task_id=scene.task_id,
        )  # fmt: skip
    return scene, int(drawn.track["id"])


def _nudge(
    db: sessionmaker[Session],
    scene: EditScene,
    track_id: int,
    *,
    commit: bool = True,
    savepoint: bool = False,
) -> None:
    """ann records a nudge shown in her task; the transaction is rolled back unless ``commit``."""
    payload = {"nudge_kind": "make_stationary", "track_id": track_id}
    try:
        with db.begin() as s:
            if savepoint:
                with s.begin_nested():
                    task_events.record_task_event(
                        s, scene.team.ann, scene.task_id, "frame_viewed", {"frame": 1}
                    )
            else:
                task_events.record_task_event(s, scene.team.ann, scene.task_id, "nudge_shown", payload)
            if not commit:
                raise RollBackError
    except RollBackError:
        pass


async def _next(updates: AsyncIterator[dict[str, Any] | None]) -> tuple[dict[str, Any] | None, float]:
    started = time.monotonic()
    item = await asyncio.wait_for(anext(updates), 5)
    return item, time.monotonic() - started


def test_listeners_hear_of_commits_only(db_factory: sessionmaker[Session]) -> None:
    scene, track_id = _scene_with_a_work_track(db_factory)
    broadcaster = EventBroadcaster()
    broadcaster.attach(db_factory)
    live = LiveKpis(db_factory, broadcaster, idle_seconds=120.0)
    project_id = scene.team.project_id

    async def listen() -> None:
        updates = live.personal_updates(scene.team.ann, project_id, once=False, keepalive_seconds=KEEPALIVE)
        first, _ = await _next(updates)
        assert first is not None and first["totals"]["nudges_shown"] == 0
        assert broadcaster.subscriber_count(project_id) == 1
        quiet, waited = await _next(updates)
        assert quiet is None and waited >= KEEPALIVE * 0.9
        # Rolled back, or only a SAVEPOINT released in a transaction that then rolls back: nothing happened.
        await asyncio.to_thread(_nudge, db_factory, scene, track_id, commit=False)
        await asyncio.to_thread(_nudge, db_factory, scene, track_id, commit=False, savepoint=True)
        assert (await _next(updates))[0] is None
        await asyncio.to_thread(_nudge, db_factory, scene, track_id)
        heard, waited = await _next(updates)
        assert heard is not None and heard["totals"]["nudges_shown"] == 1
        assert waited < 1.0
        # A SAVEPOINT inside a transaction that commits is heard once, at the commit.
        await asyncio.to_thread(_nudge, db_factory, scene, track_id, savepoint=True)
        heard, _ = await _next(updates)
        assert heard is not None and heard["totals"]["nudges_shown"] == 1
        await updates.aclose()
        assert broadcaster.subscriber_count(project_id) == 0

    asyncio.run(listen())


def test_one_computation_serves_every_listener_until_the_next_change(
    db_factory: sessionmaker[Session],
) -> None:
    scene, track_id = _scene_with_a_work_track(db_factory)
    broadcaster = EventBroadcaster()
    broadcaster.attach(db_factory)
    live = LiveKpis(db_factory, broadcaster, idle_seconds=120.0)
    project_id = scene.team.project_id

    async def compare() -> None:
        first = await live.snapshot(project_id)
        assert await live.snapshot(project_id) is first
        await asyncio.to_thread(_nudge, db_factory, scene, track_id, commit=False)
        assert await live.snapshot(project_id) is first
        await asyncio.to_thread(_nudge, db_factory, scene, track_id)
        second = await live.snapshot(project_id)
        assert second is not first
        assert sum(d.nudges_shown for d in second.activity.digest.days) == 1
        assert sum(d.nudges_shown for d in first.activity.digest.days) == 0
        once = live.personal_updates(scene.team.abe, project_id, once=True, keepalive_seconds=KEEPALIVE)
        answers = [answer async for answer in once]
        assert len(answers) == 1 and answers[0] is not None and answers[0]["user"] == "abe"
        # A non-member's stream ends at once (the route refuses them before it starts).
        outsider = live.personal_updates(scene.team.outsider, project_id, once=False, keepalive_seconds=1)
        assert [answer async for answer in outsider] == []

    asyncio.run(compare())
