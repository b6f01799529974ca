"""KPIs: a person's own dashboard, the team view (JSON or CSV) and the live stream of the dashboard.

The stream is server-sent events (``text/event-stream``): an event ``kpi`` with the caller's
``/api/kpis/me`` answer at once and after every committed event of the project, and a ``: keepalive``
comment after every 15 s of quiet. It is left out of the OpenAPI schema, which cannot describe an
endless stream (and the schema-driven tests would wait on it forever).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from labelpilot.api.deps import CurrentActor, SessionDep, app_state
from labelpilot.api.params import MAX_INT32, IdPath
from labelpilot.services import kpi_reports
from labelpilot.services.actors import Actor
from labelpilot.services.kpi_live import LiveKpis

router = APIRouter(tags=["kpis"])

KEEPALIVE_SECONDS = 15.0
RETRY_MILLISECONDS = 2000
"""How long a browser's EventSource waits before it reconnects after the stream ends."""
ProjectQuery = Annotated[int, Query(ge=1, le=MAX_INT32, description="the project")]


def idle_seconds(request: Request) -> float:
    return app_state(request).settings.kpi_idle_seconds


IdleSeconds = Annotated[float, Depends(idle_seconds)]


@router.get("/api/kpis/me")
def my_kpis(
    project_id: ProjectQuery, session: SessionDep, actor: CurrentActor, idle: IdleSeconds
) -> dict[str, Any]:
    """The caller's KPIs in the project: in total, per day and per task, with peer benchmarks."""
    return kpi_reports.my_kpis(session, actor, project_id, idle_seconds=idle)


@router.get(
    "/api/projects/{project_id}/kpis",
    response_model=None,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def project_kpis(
    project_id: IdPath,
    session: SessionDep,
    actor: CurrentActor,
    idle: IdleSeconds,
    format: Literal["json", "csv"] = "json",
    table: Literal["people", "people_days", "days", "classes"] = "people",
) -> dict[str, Any] | Response:
    """Everyone's KPIs, the team's per day and per class, and where the time goes (staff and admins);
    ``format=csv`` answers one table (``table``: people, people_days, days or classes) as CSV."""
    team = kpi_reports.project_kpis(session, actor, project_id, idle_seconds=idle)
    if format == "json":
        return team
    return Response(
        kpi_reports.team_csv(team, table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="project-{project_id}-kpis-{table}.csv"'},
    )


def _server_sent(payload: dict[str, Any], *, first: bool) -> bytes:
    retry = f"retry: {RETRY_MILLISECONDS}\n" if first else ""
    data = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return f"{retry}event: kpi\ndata: {data}\n\n".encode()


async def _kpi_events(live: LiveKpis, actor: Actor, project_id: int, once: bool) -> AsyncIterator[bytes]:
    first = True
    updates = live.personal_updates(actor, project_id, once=once, keepalive_seconds=KEEPALIVE_SECONDS)
    async for payload in updates:
        if payload is None:
            yield b": keepalive\n\n"
        else:
            yield _server_sent(payload, first=first)
            first = False


@router.get("/api/kpis/stream", include_in_schema=False)
def kpi_stream(
    request: Request, project_id: ProjectQuery, session: SessionDep, actor: CurrentActor, once: bool = False
) -> StreamingResponse:
    """Server-sent events with the caller's KPIs, live; ``once=1`` ends the stream after the first."""
    kpi_reports.require_member(session, actor, project_id)
    # The request's database session ends when this function returns, before the first byte is sent.
    return StreamingResponse(
        _kpi_events(app_state(request).live_kpis, actor, project_id, once),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
