"""Ego pose layers of a scene: the corrected trajectories beside the imported one (frames.world_T_ego).

The imported poses stay in ``frames.world_T_ego`` for good. A row of ``scene_pose_layers`` holds another
trajectory of the same scene (today ``corrected``: estimated from stationary candidates used as
landmarks, ``automation.pose_correction``) with the estimate's figures in ``params``. At most one row of
a scene is ``active``; with none the imported poses are the scene's poses. Every world-frame pose stored
for the scene's tracks is expressed in the world of the active trajectory (``services.pose_layers``
moves them when the active layer changes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from labelpilot.store.tables import Base, utcnow


class ScenePoseLayer(Base):
    __tablename__ = "scene_pose_layers"
    __table_args__ = (UniqueConstraint("scene_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scene_id: Mapped[int] = mapped_column(ForeignKey("scenes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    poses: Mapped[list[Any]] = mapped_column(JSON)
    """world_T_ego per frame in frame order, each 12 numbers (3x4 row-major), like frames.world_T_ego."""
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """How the layer was made: the estimate's parameters, spreads, reason, notice, source layer."""
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
