"""The stationary-objects review: a scene's stationary candidates and its accumulated points, in one view."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from labelpilot.api.deps import BlobsDep, CurrentActor, SessionDep
from labelpilot.api.params import IdPath, IdQuery
from labelpilot.services import stationary_review

router = APIRouter(prefix="/api", tags=["automation"])


@router.get("/scenes/{scene_id}/stationary-review")
def review(
    scene_id: IdPath, session: SessionDep, blobs: BlobsDep, actor: CurrentActor, task_id: IdQuery = None
) -> dict[str, Any]:
    """The queue's stationary candidates with their proposed world boxes, and the sweeps in the world
    frame (null without lidar)."""
    return stationary_review.stationary_review(session, blobs, actor, scene_id, task_id)
