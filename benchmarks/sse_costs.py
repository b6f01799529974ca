"""What one update of the live KPIs costs, measured in this process on the benchmark's database.

The server computes, per committed event, one project snapshot (``take_snapshot``: read the events and
deliveries, sum them) and then, per open stream, the person's part (``personal_kpis``) and its JSON.
Timing the same functions here, on the same data, splits a round's delivery time into those parts.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import accounts
from labelpilot.services.kpi_reports import personal_kpis, take_snapshot
from labelpilot.settings import Settings
from labelpilot.store.tables import EventRow, Membership
from sse_setup import Viewer

REPEATS = 5


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000.0


def update_costs(factory: sessionmaker[Session], project_id: int, viewers: list[Viewer]) -> dict[str, Any]:
    """Median ms of a snapshot, and of the per-person part and its JSON, for the given people."""
    idle = Settings().kpi_idle_seconds
    snapshot_s = []
    with factory() as session:
        events = session.scalar(
            select(func.count()).select_from(EventRow).where(EventRow.project_id == project_id)
        )
        members = session.scalar(
            select(func.count()).select_from(Membership).where(Membership.project_id == project_id)
        )
        actors = [accounts.actor_of(accounts.get_user_by_name(session, v.name)) for v in viewers]
        for _ in range(REPEATS):
            started = time.perf_counter()
            snapshot = take_snapshot(session, project_id, idle_seconds=idle)
            snapshot_s.append(time.perf_counter() - started)
    personal_s, json_s = [], []
    for actor in actors:
        started = time.perf_counter()
        payload = personal_kpis(snapshot, actor)
        middle = time.perf_counter()
        json.dumps(payload, separators=(",", ":"), allow_nan=False)
        personal_s.append(middle - started)
        json_s.append(time.perf_counter() - middle)
    return {
        "events": events,
        "members": members,
        "snapshot_ms": _median_ms(snapshot_s),
        "personal_ms": _median_ms(personal_s),
        "json_ms": _median_ms(json_s),
        "per_update_cpu_ms": _median_ms(snapshot_s) + sum(personal_s + json_s) * 1000.0,
    }
