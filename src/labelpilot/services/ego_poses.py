"""Ego poses the product corrects: estimated after ``autolabel``, re-estimated or switched by managers.

The correction (``automation.pose_correction``) uses the scene's own stationary candidates as
landmarks, never ground truth. It is always estimated relative to the imported poses: the candidates'
detections are taken back into the sensor frame through the poses active when they were built (which
no pose error touches), and the fit runs on the imported trajectory. When it applies, it is stored as
the pose layer ``corrected`` and made active, so every reader of the scene's poses (editor, guidance,
exports, the effort benchmark) sees stationary tracks through it; ``services.pose_layers`` moves every
stored track so that keyframed boxes keep their sensor-frame look. Events: ``ego_poses_corrected``
(stored and active), ``ego_poses_not_corrected`` (with the reason; the active poses stay as they were),
``ego_poses_switched`` (a manager chose other poses).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.automation.candidates import CANDIDATE_PREFIX
from labelpilot.automation.pose_correction import PoseCorrection, correct_poses
from labelpilot.automation.pose_landmarks import landmarks_from_candidates
from labelpilot.geometry import Pose
from labelpilot.scenes import Frame, Scene
from labelpilot.services.actors import Actor, require_role
from labelpilot.services.errors import InvalidError, NotFoundError
from labelpilot.services.events import record_event
from labelpilot.services.pose_layers import (
    CORRECTED,
    RAW,
    active_layer,
    pose_layer,
    raw_poses,
    store_and_activate,
    switch_poses,
)
from labelpilot.services.scene_access import MANAGERS, visible_scene
from labelpilot.services.scene_load import load_scene
from labelpilot.store.blobs import BlobStore
from labelpilot.store.pose_tables import ScenePoseLayer
from labelpilot.store.tables import EventRow, LayerRow, SceneRow
from labelpilot.tracks import AnnotationLayer

CORRECTED_EVENT = "ego_poses_corrected"
NOT_CORRECTED_EVENT = "ego_poses_not_corrected"
SWITCHED_EVENT = "ego_poses_switched"
ESTIMATE_EVENTS = (CORRECTED_EVENT, NOT_CORRECTED_EVENT)


def _on_poses(scene: Scene, poses: Sequence[Pose]) -> Scene:
    """The scene's frames on other poses (no layers: the fit needs times and poses only)."""
    frames = [
        Frame(f.index, f.timestamp_us, p, f.lidar, dict(f.images))
        for f, p in zip(scene.frames, poses, strict=True)
    ]
    return Scene(scene.name, frames, scene.lidar, dict(scene.cameras), {}, scene.source_format)


def estimate(scene: Scene, candidates: AnnotationLayer, imported: Sequence[Pose]) -> PoseCorrection:
    """The correction of the imported poses from ``candidates`` (built on ``scene``'s poses)."""
    landmarks = landmarks_from_candidates(scene, candidates)
    return correct_poses(_on_poses(scene, imported), landmarks)


def correction_json(correction: PoseCorrection, from_layer: str) -> dict[str, Any]:
    """What the event, the pose layer's params and the API carry about an estimate."""
    params = correction.parameters
    return {
        "applied": correction.applied,
        "reason": correction.reason,
        "notice": correction.notice(),
        "from_layer": from_layer,
        "landmarks": len(correction.landmarks),
        "inliers": sum(f.inlier for f in correction.landmarks),
        "disagreement_before_m": round(correction.disagreement_before_m, 4),
        "disagreement_after_m": round(correction.disagreement_after_m, 4),
        "disagreeing": list(correction.disagreeing),
        "parameters": None
        if params is None
        else {
            "shape": asdict(params.shape),
            "mean_scale": params.mean_scale,
            "scale_start": params.scale_start,
            "scale_end": params.scale_end,
            "yaw_drift_deg": params.yaw_drift_deg,
            "drift_m": list(params.drift_m),
        },
        "seconds": round(correction.seconds, 4),
    }


def correct_scene_poses(
    session: Session, actor: Actor, scene_row: SceneRow, scene: Scene, candidates: AnnotationLayer
) -> dict[str, Any]:
    """Estimate from ``candidates`` (stored already, ``scene`` on the active poses); store and activate
    the correction when there is one. The caller checked the actor's right to do so."""
    correction = estimate(scene, candidates, raw_poses(session, scene_row.id))
    payload = correction_json(correction, candidates.name)
    if correction.applied:
        moved = store_and_activate(session, scene_row.id, CORRECTED, correction.poses, payload)
        payload = {**payload, "active": moved.name}
        kind = CORRECTED_EVENT
    else:
        current = active_layer(session, scene_row.id)
        payload = {**payload, "active": RAW if current is None else current.name}
        kind = NOT_CORRECTED_EVENT
    record_event(
        session, actor, kind, project_id=scene_row.project_id, scene_id=scene_row.id, payload=payload
    )
    return payload


def _managed_scene(session: Session, actor: Actor, scene_id: int) -> SceneRow:
    scene_row = visible_scene(session, actor, scene_id)
    require_role(session, actor, scene_row.project_id, MANAGERS)
    return scene_row


def _candidate_layer(session: Session, scene_id: int, from_layer: str | None) -> str:
    names = list(
        session.scalars(select(LayerRow.name).where(LayerRow.scene_id == scene_id).order_by(LayerRow.id))
    )
    if from_layer is not None:
        if from_layer not in names:
            raise NotFoundError(f"scene {scene_id} has no layer {from_layer!r}")
        return from_layer
    built = [n for n in names if n.startswith(CANDIDATE_PREFIX)]
    if not built:
        raise InvalidError(
            f"scene {scene_id} has no candidate tracks to take landmarks from; run autolabel first",
            field="from_layer",
        )
    return built[-1]


def reestimate(
    session: Session, blobs: BlobStore, actor: Actor, scene_id: int, from_layer: str | None = None
) -> dict[str, Any]:
    """Estimate the correction again from a candidates layer (default: the latest) (managers)."""
    scene_row = _managed_scene(session, actor, scene_id)
    name = _candidate_layer(session, scene_id, from_layer)
    if name == "ground_truth":
        raise InvalidError("the pose correction never reads the ground_truth layer", field="from_layer")
    scene = load_scene(session, blobs, actor, scene_id, [name])
    return correct_scene_poses(session, actor, scene_row, scene, scene.layers[name])


def set_active(session: Session, actor: Actor, scene_id: int, name: str) -> dict[str, Any]:
    """Make ``name`` (``raw``: the imported poses, or a stored pose layer) the scene's poses (managers)."""
    scene_row = _managed_scene(session, actor, scene_id)
    current = active_layer(session, scene_id)
    previous = RAW if current is None else current.name
    target: ScenePoseLayer | None = None
    if name != RAW:
        target = pose_layer(session, scene_id, name)
        if target is None:
            raise NotFoundError(f"scene {scene_id} has no pose layer {name!r}")
    moved = 0 if previous == name else switch_poses(session, scene_id, target)
    payload = {"from": previous, "to": name, "tracks_moved": moved}
    record_event(
        session, actor, SWITCHED_EVENT, project_id=scene_row.project_id, scene_id=scene_id, payload=payload
    )
    return {**pose_status(session, actor, scene_id), "switch": payload}


def pose_status(session: Session, actor: Actor, scene_id: int) -> dict[str, Any]:
    """The scene's pose layers, which is active, and the latest estimate with its notice (when poses
    and landmarks disagree: the editor shows it)."""
    visible_scene(session, actor, scene_id)
    layers = list(
        session.scalars(
            select(ScenePoseLayer).where(ScenePoseLayer.scene_id == scene_id).order_by(ScenePoseLayer.id)
        )
    )
    active = next((layer.name for layer in layers if layer.active), RAW)
    latest = session.scalar(
        select(EventRow)
        .where(EventRow.scene_id == scene_id, EventRow.kind.in_(ESTIMATE_EVENTS))
        .order_by(EventRow.id.desc())
        .limit(1)
    )
    estimate_payload = None if latest is None else dict(latest.payload)
    return {
        "scene_id": scene_id,
        "active": active,
        "layers": [
            {
                "name": layer.name,
                "active": layer.active,
                "created_at": layer.created_at.isoformat(),
                "params": layer.params,
            }
            for layer in layers
        ],
        "estimate": estimate_payload,
        "notice": None if estimate_payload is None else estimate_payload.get("notice"),
    }
