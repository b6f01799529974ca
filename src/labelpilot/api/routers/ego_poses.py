"""Ego poses of a scene: which trajectory is active, re-estimating the correction, switching back."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from labelpilot.api.deps import BlobsDep, CurrentActor, SessionDep
from labelpilot.api.params import IdPath, Text
from labelpilot.services import ego_poses

router = APIRouter(prefix="/api", tags=["ego poses"])


class EstimateRequest(BaseModel):
    from_layer: Text | None = Field(
        default=None,
        min_length=1,
        max_length=120,
        description="the candidates layer whose stationary tracks are landmarks (default: the latest)",
    )


class ActivateRequest(BaseModel):
    name: Text = Field(min_length=1, max_length=40, description='"raw" (the imported poses) or a pose layer')


@router.get("/scenes/{scene_id}/ego-poses")
def pose_status(scene_id: IdPath, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    """The scene's pose layers, the active one, and the latest estimate with its notice."""
    return ego_poses.pose_status(session, actor, scene_id)


@router.post("/scenes/{scene_id}/ego-poses/estimate")
def estimate(
    scene_id: IdPath, body: EstimateRequest, session: SessionDep, blobs: BlobsDep, actor: CurrentActor
) -> dict[str, Any]:
    """Estimate the correction again from stationary candidates; active when it applies (managers)."""
    return ego_poses.reestimate(session, blobs, actor, scene_id, body.from_layer)


@router.put("/scenes/{scene_id}/ego-poses/active")
def activate(
    scene_id: IdPath, body: ActivateRequest, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    """Make the imported poses or a pose layer the scene's poses, moving every track there (managers)."""
    return ego_poses.set_active(session, actor, scene_id, body.name)
