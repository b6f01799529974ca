"""Run automation on a stored scene and store what it proposes as layers of candidates.

``autolabel`` either associates a stored layer's boxes into candidate tracks (``from_layer``, e.g. a
detector's one-frame boxes in ``auto:pointrcnn`` become ``candidates:auto:pointrcnn``) or runs the
built-in classical lidar detector on the stored sweeps (``detector="classic"``). The detector
stores two layers: ``auto:classic``, its raw one-frame detections (so a later run can associate them
again, and checks can compare against them), and ``candidates:auto:classic``, the candidate tracks
associated from them, which is what people confirm. Candidates are what guidance works on, so the
tracks layer is the product; the detections are the evidence behind it.

A run replaces the layers of an earlier run of the same name in the same transaction, but never
work people have done: when any track of such a layer carries an event, was deleted or is no longer a
candidate (confirmed or rejected), the run is refused with a ConflictError and nothing changes.
Ground truth is never read: a run on ``ground_truth`` is refused.

Afterwards the new candidates' stationary ones serve as landmarks to correct the ego poses
(``services.ego_poses``): when a correction applies it becomes the scene's active poses.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from labelpilot.automation.association import AssociationParams
from labelpilot.automation.candidates import CANDIDATE_PREFIX, build_candidates
from labelpilot.automation.detector import detector_layer
from labelpilot.automation.sweep_access import PointArray, SweepSource
from labelpilot.scenes import Scene
from labelpilot.services.actors import Actor, require_role
from labelpilot.services.blob_sweeps import BlobSweeps
from labelpilot.services.ego_poses import correct_scene_poses
from labelpilot.services.errors import ConflictError, InvalidError
from labelpilot.services.events import record_event
from labelpilot.services.scene_access import MANAGERS, visible_scene
from labelpilot.services.scene_import import _insert_layer
from labelpilot.services.scene_load import load_scene
from labelpilot.services.track_edit_input import GROUND_TRUTH
from labelpilot.services.track_edit_store import ensure_layer
from labelpilot.store.blobs import BlobStore
from labelpilot.store.tables import EventRow, KeyframeRow, LayerRow, SceneRow, Track2DRow, TrackRow
from labelpilot.tracks import AnnotationLayer, TrackStatus

ProgressCallback = Callable[[int, int], None]
"""Called with (frames done, frames in total) while the detector reads sweeps."""

CLASSIC = "classic"
DETECTORS = (CLASSIC,)
CLASSIC_LAYER = "auto:classic"
CLASSIC_PARAMS = AssociationParams(birth_confidence=0.2)
"""The classic detector's score is a plausibility (size match x point support x ground contact) that
stays well below 1: on the KITTI odometry demo drive its 99th percentile is 0.48, so the default
birth threshold of 0.5 (meant for probabilities and logits) starts no track at all. At 0.2, about
the median detection score, 24 candidates start there (0.3: 17, 0.1: 33)."""
MAX_LAYER_NAME = 120
"""layers.name is VARCHAR(120)."""


class _CountingSweeps:
    """A SweepSource that reports each frame read to a progress callback."""

    def __init__(self, inner: SweepSource, total: int, progress: ProgressCallback) -> None:
        self._inner, self._total, self._progress = inner, total, progress
        self._seen: set[int] = set()

    def points_ego(self, frame: int) -> PointArray | None:
        points = self._inner.points_ego(frame)
        if frame not in self._seen:
            self._seen.add(frame)
            self._progress(len(self._seen), self._total)
        return points


def _has_sweeps(scene: Scene) -> bool:
    return any(frame.lidar is not None for frame in scene.frames)


def _target_name(source: str) -> str:
    name = f"{CANDIDATE_PREFIX}{source}"
    if len(name) > MAX_LAYER_NAME:
        raise InvalidError(
            f"the candidates layer {name[:60]!r}... would need more than {MAX_LAYER_NAME} characters",
            field="from_layer",
        )
    return name


def _edited_tracks(session: Session, layer_id: int) -> int:
    """Tracks of the layer that people have touched: with an event, deleted, or no longer a candidate
    (confirmed or rejected). Not the version: a switch of the ego poses moves every track to a new
    version without anyone working on it."""
    in_layer = select(TrackRow.id).where(TrackRow.layer_id == layer_id)
    with_events = select(EventRow.track_id).where(EventRow.track_id.in_(in_layer))
    touched = (
        select(func.count())
        .select_from(TrackRow)
        .where(
            TrackRow.layer_id == layer_id,
            or_(
                TrackRow.status != TrackStatus.CANDIDATE.value,
                TrackRow.deleted.is_(True),
                TrackRow.id.in_(with_events),
            ),
        )
    )
    return int(session.scalar(touched) or 0)


def _check_replaceable(session: Session, scene_id: int, names: Sequence[str]) -> dict[str, bool]:
    """Whether each target layer exists already; ConflictError if one holds work people did."""
    existing: dict[str, bool] = {}
    for name in names:
        layer_id = session.scalar(
            select(LayerRow.id).where(LayerRow.scene_id == scene_id, LayerRow.name == name)
        )
        existing[name] = layer_id is not None
        if layer_id is None:
            continue
        edited = _edited_tracks(session, layer_id)
        if edited:
            raise ConflictError(
                f"layer {name!r} of scene {scene_id} has {edited} track(s) people have worked on; "
                "a new run would throw that work away",
                current={"layer": name, "edited_tracks": edited},
            )
    return existing


def _replace_layer(session: Session, scene_id: int, layer: AnnotationLayer) -> None:
    """The layer's rows hold exactly ``layer``'s tracks afterwards (the layer row and its id are kept)."""
    row = ensure_layer(session, scene_id, layer.name)
    old_tracks = select(TrackRow.id).where(TrackRow.layer_id == row.id)
    session.execute(
        delete(KeyframeRow).where(KeyframeRow.track_id.in_(old_tracks)),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        delete(TrackRow).where(TrackRow.layer_id == row.id), execution_options={"synchronize_session": False}
    )
    session.execute(
        delete(Track2DRow).where(Track2DRow.layer_id == row.id),
        execution_options={"synchronize_session": False},
    )
    row.description = layer.description
    session.flush()
    _insert_layer(session, row, layer)


def _from_layer(
    blobs: BlobStore, scene: Scene, source: str
) -> tuple[list[AnnotationLayer], dict[str, float], int]:
    started = time.perf_counter()
    sweeps = BlobSweeps.of_scene(blobs, scene) if _has_sweeps(scene) else None
    candidates = build_candidates(scene, scene.layers[source], sweeps=sweeps)
    return [candidates], {"candidates": time.perf_counter() - started}, len(scene.layers[source].tracks)


def _classic(
    blobs: BlobStore, scene: Scene, progress: ProgressCallback | None
) -> tuple[list[AnnotationLayer], dict[str, float], int]:
    if not _has_sweeps(scene):
        raise InvalidError(
            f"scene {scene.name!r} has no lidar sweeps; the {CLASSIC} detector needs them", field="detector"
        )
    sweeps = BlobSweeps.of_scene(blobs, scene)
    reading: SweepSource = (
        _CountingSweeps(sweeps, sweeps.frames_with_sweeps, progress) if progress is not None else sweeps
    )
    started = time.perf_counter()
    detections = detector_layer(scene, reading, CLASSIC_LAYER)
    detected = time.perf_counter()
    candidates = build_candidates(scene, detections, sweeps=sweeps, params=CLASSIC_PARAMS)
    timing = {"detect": detected - started, "candidates": time.perf_counter() - detected}
    return [detections, candidates], timing, len(detections.tracks)


def autolabel(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    scene_id: int,
    *,
    from_layer: str | None = None,
    detector: str | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Candidates for a stored scene from one of its layers or from a detector (managers, admins).

    Give exactly one of ``from_layer`` (a stored layer whose boxes to associate, not ground_truth)
    and ``detector`` (``"classic"``). Returns a summary: the layers written with their track counts
    and whether they replaced an earlier run, the number of source tracks (the detector: its
    detections), the scene's frames and seconds per step. The run is recorded as an ``autolabel_run``
    event with the same figures. ``progress`` hears of each sweep the detector reads.
    """
    started = time.perf_counter()
    if (from_layer is None) == (detector is None):
        raise InvalidError("give either from_layer or detector, not both or neither", field="from_layer")
    scene_row: SceneRow = visible_scene(session, actor, scene_id)
    require_role(session, actor, scene_row.project_id, MANAGERS)
    if from_layer is not None:
        if from_layer == GROUND_TRUTH:
            raise InvalidError("automation never reads the ground_truth layer", field="from_layer")
        targets = [_target_name(from_layer)]
    elif detector in DETECTORS:
        targets = [CLASSIC_LAYER, f"{CANDIDATE_PREFIX}{CLASSIC_LAYER}"]
    else:
        raise InvalidError(f"unknown detector {detector!r} (known: {', '.join(DETECTORS)})", field="detector")
    # Refused before the (costly) run when it would throw away what people did.
    existed = _check_replaceable(session, scene_id, targets)
    if from_layer is not None:
        scene = load_scene(session, blobs, actor, scene_id, [from_layer])
        loaded = time.perf_counter()
        layers, timing, source_tracks = _from_layer(blobs, scene, from_layer)
    else:
        scene = load_scene(session, blobs, actor, scene_id, [])
        loaded = time.perf_counter()
        layers, timing, source_tracks = _classic(blobs, scene, progress)
    assert [layer.name for layer in layers] == targets
    computed = time.perf_counter()
    for layer in layers:
        _replace_layer(session, scene_id, layer)
    written_at = time.perf_counter()
    # The new candidates' stationary ones are landmarks for the ego poses: the correction, when there
    # is one, becomes the scene's active poses (every stored track moved onto it, services.ego_poses).
    ego_poses = correct_scene_poses(session, actor, scene_row, scene, layers[-1])
    seconds = {
        "load": loaded - started,
        **timing,
        "write": written_at - computed,
        "ego_poses": time.perf_counter() - written_at,
    }
    seconds["total"] = time.perf_counter() - started
    written = [
        {"name": layer.name, "tracks": len(layer.tracks), "replaced": existed[layer.name]} for layer in layers
    ]
    payload: dict[str, Any] = {
        "from_layer": from_layer,
        "detector": detector,
        "source_tracks": source_tracks,
        "frames": len(scene.frames),
        "layers": written,
        "ego_poses": {k: ego_poses[k] for k in ("applied", "reason", "active", "notice")},
        "seconds": {k: round(v, 4) for k, v in seconds.items()},
    }
    event = record_event(
        session, actor, "autolabel_run", project_id=scene_row.project_id, scene_id=scene_id, payload=payload
    )
    return {"scene_id": scene_id, "event_id": event.id, **payload, "candidates": written[-1]["tracks"]}
