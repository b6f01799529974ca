"""The rollups never change an answer: wherever the boundary between rolled-up and live events lies,
and however many steps it moved in, the KPIs equal those computed from every event at once. Real edits
through the services on the KITTI sample (SQLite file and PostgreSQL), placed at known times."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.kpi.buckets import utc_day
from labelpilot.kpi.records import ActivityEvent
from labelpilot.kpi.summary import summarise_events
from labelpilot.services import kpi_reports, kpi_rollups, task_events, tasks, track_edits
from labelpilot.services.kpi_deliveries import as_utc
from labelpilot.store.kpi_tables import KpiRollupState
from labelpilot.store.tables import EventRow, TrackRow
from tests.services.scene_rows import EditScene

IDLE = 120.0
START = datetime(2026, 12, 14, 23, 50, tzinfo=UTC)
GAPS = [0, 15, 40, 200, 10, 10, 130, 5, 90, 20, 20, 20, 600, 30, 45, 50]
"""seconds between the events as placed: some longer than the idle threshold, one across midnight"""


def _pose(x: float) -> dict[str, Any]:
    return {"center": [x, 4.0, 0.8], "yaw": 0.2}


def _history(db: sessionmaker[Session], scene: EditScene) -> list[datetime]:
    """ann and abe edit and send heartbeats; then their events are placed at the times of GAPS."""
    team, scene_id, task_id = scene.team, scene.stored.scene_id, scene.task_id
    with db.begin() as s:
        car = track_edits.create_track(
            s, team.ann, scene_id, "work", "Car", [4.0, 1.8, 1.5], keyframes={"0": _pose(1)}, task_id=task_id
        ).track["id"]
        track_edits.create_track(
            s, team.ann, scene_id, "work", "Pedestrian", [0.8, 0.6, 1.7], keyframes={"2": _pose(5)},
            task_id=task_id,
        )  # fmt: skip
        abe_task = tasks.create_task(
            s, team.manager, team.project_id, scene_id, "annotate", "abe-work", "abe"
        ).id
        tasks.start_task(s, team.abe, abe_task)
    version = 1
    for n in range(len(GAPS) - 3):
        with db.begin() as s:
            if n % 3 == 0:
                task_events.record_task_event(s, team.abe, abe_task, "heartbeat", {})
            elif n % 2:
                track_edits.set_keyframe(s, team.ann, car, version, n, _pose(n), task_id=task_id)
                version += 1
            else:
                task_events.record_task_event(s, team.ann, task_id, "heartbeat", {})
    times = []
    at = START
    with db.begin() as s:
        ids = s.scalars(
            select(EventRow.id).where(EventRow.project_id == team.project_id).order_by(EventRow.id)
        ).all()
        assert len(ids) >= len(GAPS)
        for index, event_id in enumerate(ids):
            at += timedelta(seconds=GAPS[index % len(GAPS)])
            times.append(at)
            s.execute(update(EventRow).where(EventRow.id == event_id).values(at=at))
    return times


def _expected(db: sessionmaker[Session], project_id: int, now: datetime) -> Any:
    with db.begin() as s:
        rows = s.execute(
            select(EventRow.at, EventRow.user_id, EventRow.kind, EventRow.task_id, TrackRow.label)
            .outerjoin(TrackRow, TrackRow.id == EventRow.track_id)
            .where(EventRow.project_id == project_id, EventRow.user_id.is_not(None))
        ).all()
    events = [ActivityEvent(as_utc(at), u, kind, task, label) for at, u, kind, task, label in rows if u]
    return summarise_events(events, [], idle_seconds=IDLE, hourly_cost_eur=25.0, now=now)


def test_the_boundary_never_changes_an_answer(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    times = _history(db_factory, edit_scene)
    team = edit_scene.team
    boundaries = []
    # A reader's clock walks through the history 20 s at a time and then beyond it.
    now = times[0] - timedelta(seconds=90)
    while now < times[-1] + timedelta(minutes=3):
        with db_factory.begin() as s:
            view = kpi_reports.project_kpis(s, team.manager, team.project_id, idle_seconds=IDLE, now=now)
            boundaries.append(as_utc(s.get_one(KpiRollupState, team.project_id).through_at))
        expected = _expected(db_factory, team.project_id, now)
        people = {p["user"]: p["active_seconds"] for p in view["people"]}
        assert people["ann"] == pytest.approx(expected.person(team.ann.user_id).totals.active_seconds)
        assert people["abe"] == pytest.approx(expected.person(team.abe.user_id).totals.active_seconds)
        assert view["seconds_by_action"] == pytest.approx(expected.seconds_by_action)
        assert {d["day"]: d["active_seconds"] for d in view["days"]} == pytest.approx(
            {day.isoformat(): v.active_seconds for day, v in expected.team_days.items()}
        )
        assert {c["label"]: c["active_seconds"] for c in view["classes"]} == pytest.approx(
            {label: v.active_seconds for label, v in expected.team_classes.items()}
        )
        now += timedelta(seconds=20)
    # The boundary moved in many steps, always to SETTLE before the reader's clock, never back.
    assert len(set(boundaries)) > 5 and boundaries == sorted(boundaries)
    assert {utc_day(t) for t in times} == {START.date(), (START + timedelta(days=1)).date()}
    assert sum(v for v in _expected(db_factory, team.project_id, now).seconds_by_action.values()) > 0


def test_another_idle_threshold_rebuilds(db_factory: sessionmaker[Session], edit_scene: EditScene) -> None:
    times = _history(db_factory, edit_scene)
    team = edit_scene.team
    now = times[-1] + timedelta(hours=1)

    def ann_seconds(idle: float) -> float:
        with db_factory.begin() as s:
            mine = kpi_reports.my_kpis(s, team.ann, team.project_id, idle_seconds=idle, now=now)
        return float(mine["totals"]["active_seconds"])

    short, long = ann_seconds(IDLE), ann_seconds(1000.0)
    assert long > short  # the 130, 200 and 600 s pauses count now
    with db_factory.begin() as s:
        assert s.get_one(KpiRollupState, team.project_id).idle_seconds == 1000.0
        kpi_rollups.rebuild(s, team.project_id, idle_seconds=IDLE, now=now)
    assert ann_seconds(IDLE) == pytest.approx(short)


def test_two_first_reads_at_once_count_everything_once(
    db_factory: sessionmaker[Session], edit_scene: EditScene
) -> None:
    times = _history(db_factory, edit_scene)
    team = edit_scene.team
    now = times[-1] + timedelta(hours=1)

    def team_seconds(idle: float) -> float:
        with db_factory.begin() as s:
            view = kpi_reports.project_kpis(s, team.manager, team.project_id, idle_seconds=idle, now=now)
        return float(view["team"]["active_seconds"])

    for idle in (100.0, 150.0, 250.0):  # another threshold each time: both readers rebuild
        barrier = threading.Barrier(2)

        def read(idle: float = idle, barrier: threading.Barrier = barrier) -> float:
            barrier.wait()
            return team_seconds(idle)

        with ThreadPoolExecutor(2) as pool:
            answers = [f.result() for f in [pool.submit(read), pool.submit(read)]]
        events_total = summarise_events_total(db_factory, team.project_id, now, idle)
        assert events_total > 0
        assert answers == [pytest.approx(events_total)] * 2
        assert team_seconds(idle) == pytest.approx(events_total)  # what was stored is right too


def summarise_events_total(db: sessionmaker[Session], project_id: int, now: datetime, idle: float) -> float:
    with db.begin() as s:
        rows = s.execute(
            select(EventRow.at, EventRow.user_id, EventRow.kind, EventRow.task_id).where(
                EventRow.project_id == project_id, EventRow.user_id.is_not(None)
            )
        ).all()
    events = [ActivityEvent(as_utc(at), u, kind, task) for at, u, kind, task in rows if u]
    return summarise_events(events, [], idle_seconds=idle, hourly_cost_eur=25.0, now=now).team.active_seconds
