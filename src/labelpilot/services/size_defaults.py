"""Smart size defaults for a project: built-in class statistics moved toward its confirmed tracks."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.automation.size_priors import SizePriors
from labelpilot.geometry import Pose
from labelpilot.services.actors import ALL_ROLES, Actor, require_role
from labelpilot.services.track_edit_input import GROUND_TRUTH, is_auto_layer
from labelpilot.store.tables import LayerRow, SceneRow, TrackRow
from labelpilot.tracks import Stationary, Track, TrackStatus


def _confirmed_tracks(session: Session, project_id: int) -> list[Track]:
    """People's confirmed tracks of the project (never ground truth or machine-made layers)."""
    rows = session.execute(
        select(TrackRow.label, TrackRow.size, LayerRow.name)
        .join(LayerRow, LayerRow.id == TrackRow.layer_id)
        .join(SceneRow, SceneRow.id == LayerRow.scene_id)
        .where(
            SceneRow.project_id == project_id,
            TrackRow.status == TrackStatus.CONFIRMED.value,
            TrackRow.deleted.is_(False),
        )
    ).all()
    # SizePriors reads label, size and status only; the motion is a placeholder.
    placeholder = Stationary(Pose.identity())
    return [
        Track(str(i), label, np.asarray(size, dtype=np.float64), placeholder, 0, 0)
        for i, (label, size, layer) in enumerate(rows)
        if layer != GROUND_TRUTH and not is_auto_layer(layer)
    ]


def priors_for_project(session: Session, project_id: int) -> SizePriors:
    return SizePriors.learned(_confirmed_tracks(session, project_id))


def default_size(session: Session, project_id: int, label: str) -> list[float]:
    """The size a new box of ``label`` starts with in this project."""
    return [float(v) for v in priors_for_project(session, project_id).default_size(label)]


def project_size_priors(session: Session, actor: Actor, project_id: int) -> dict[str, Any]:
    """Per-class mean and standard deviation (length, width, height) that new boxes start from."""
    require_role(session, actor, project_id, ALL_ROLES)
    priors = priors_for_project(session, project_id)
    return {
        label: {"mean": stats.mean.tolist(), "std": stats.std.tolist(), "count": stats.count}
        for label, stats in sorted(priors.by_label.items())
    }
