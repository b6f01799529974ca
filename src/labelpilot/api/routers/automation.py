"""Automation and guidance: run a detector or associate candidates, the next best actions, nudges."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from labelpilot.api.deps import BlobsDep, CurrentActor, SessionDep
from labelpilot.api.params import IdPath, IdQuery, Text
from labelpilot.services import automation_runs, guidance_queue

router = APIRouter(prefix="/api", tags=["automation"])


class AutolabelRequest(BaseModel):
    from_layer: Text | None = Field(
        default=None, min_length=1, max_length=120, description="a stored layer whose boxes to associate"
    )
    detector: Literal["classic"] | None = Field(default=None, description="run a built-in detector instead")


@router.post("/scenes/{scene_id}/autolabel")
def autolabel(
    scene_id: IdPath, body: AutolabelRequest, session: SessionDep, blobs: BlobsDep, actor: CurrentActor
) -> dict[str, Any]:
    """Candidate tracks from a layer or from the classical lidar detector, stored as layers (managers)."""
    return automation_runs.autolabel(
        session, blobs, actor, scene_id, from_layer=body.from_layer, detector=body.detector
    )


@router.get("/scenes/{scene_id}/guidance")
def scene_guidance(
    scene_id: IdPath,
    session: SessionDep,
    blobs: BlobsDep,
    actor: CurrentActor,
    task_id: IdQuery = None,
    layer: Annotated[Text | None, Query(min_length=1, max_length=120, description="the work layer")] = None,
    limit: Annotated[int | None, Query(ge=1, le=guidance_queue.MAX_ACTIONS)] = None,
) -> list[dict[str, Any]]:
    """The next best actions on the scene, best first."""
    return guidance_queue.guidance(
        session, blobs, actor, scene_id, task_id=task_id, work_layer=layer, limit=limit
    )


@router.get("/tracks/{track_id}/proposed-life")
def proposed_life(
    track_id: IdPath, session: SessionDep, blobs: BlobsDep, actor: CurrentActor, task_id: IdQuery = None
) -> list[dict[str, Any]]:
    """The guidance queue's items about one track's life: its proposed life and the ends to look at."""
    return guidance_queue.proposed_life(session, blobs, actor, track_id, task_id=task_id)


@router.get("/tasks/{task_id}/nudges")
def task_nudges(
    task_id: IdPath, session: SessionDep, blobs: BlobsDep, actor: CurrentActor
) -> list[dict[str, Any]]:
    """Faster paths for what the task's events show the person doing slowly."""
    return guidance_queue.task_nudges(session, blobs, actor, task_id)
