"""The next best actions for a person working on a scene: a queue ranked by effort saved per second.

``next_best_actions(scene, work_layer, candidate_layers)`` reads only the layers it is named (the
person's work layer and the candidate layers) and the scene's frames, poses and, through ``sweeps``,
lidar. It never reads ``ground_truth`` and refuses to be pointed at it.

1. Candidate sources, in order: the work layer's own candidate tracks, then each named layer. A named
   ``auto:*`` layer of single-frame detections (a detector's output) is first associated into
   candidate tracks with ``automation.candidates.build_candidates``; a tracker's layer is used as it
   is. Only tracks with status ``candidate`` are pending.
2. A pending candidate that is the same object as a confirmed work track, or as a candidate of an
   earlier source, needs no action (``guidance.coverage``). Every other one gets one action:
   confirm as stationary, confirm with keyframes, or reject (``guidance.candidate_actions``).
3. Confirmed work tracks get ``measure`` actions (unless listed in ``measured_track_ids``), the
   ``accept_life`` and ``check_end`` actions of their proposed lives (``guidance.life_actions``) and one
   ``review_flag`` per flag (``guidance.review_actions``); with lidar the scene gets one
   ``look_at_missed`` action per object of points that no box covers (``guidance.missed_actions``).
4. Everything is priced with the effort model (``guidance.costs``) and ranked by
   ``saves_seconds / cost_seconds``, ties in a fixed order.

Given a ``memo`` (``guidance.memo``), the per-track parts of steps 2 and 3 (a candidate's action, a
confirmed track's ``measure``, ``accept_life`` and ``check_end`` actions) are looked up by the content
they are computed from and computed only where that changed: the queue is the same as without one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Set

from labelpilot.automation.association import AssociationParams
from labelpilot.automation.candidates import DEFAULT_PARAMS, build_candidates
from labelpilot.automation.size_priors import SizePriors
from labelpilot.automation.stationary import classify_layer
from labelpilot.automation.sweep_access import SweepSource
from labelpilot.guidance.actions import Action, ranked
from labelpilot.guidance.candidate_actions import (
    DEFAULT_CANDIDATE_SETTINGS,
    CandidateSettings,
    candidate_actions,
)
from labelpilot.guidance.coverage import uncovered
from labelpilot.guidance.life_actions import life_actions
from labelpilot.guidance.memo import GuidanceMemo
from labelpilot.guidance.missed_actions import lidar_missed_actions
from labelpilot.guidance.review_actions import flag_actions, measure_actions
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Track, TrackStatus

GROUND_TRUTH_LAYER = "ground_truth"
AUTO_PREFIX = "auto:"
SINGLE_FRAME_SHARE = 0.9
"""A layer is one of single-frame detections when at least this share of its tracks lives one frame."""


def _refuse_ground_truth(work_layer: str, candidate_layers: Sequence[str]) -> None:
    if GROUND_TRUTH_LAYER in (work_layer, *candidate_layers):
        raise ValueError(
            f"guidance never reads the {GROUND_TRUTH_LAYER!r} layer; name a work layer and auto layers"
        )


def is_detection_layer(layer: AnnotationLayer) -> bool:
    """Whether ``layer`` is an ``auto:*`` layer of single-frame detections (not yet associated)."""
    if not layer.name.startswith(AUTO_PREFIX) or not layer.tracks:
        return False
    single = sum(1 for t in layer if t.first_frame == t.last_frame)
    return single >= SINGLE_FRAME_SHARE * len(layer)


def candidate_sources(
    scene: Scene,
    work: AnnotationLayer,
    candidate_layers: Sequence[str],
    sweeps: SweepSource | None = None,
    association: AssociationParams = DEFAULT_PARAMS,
) -> Iterator[AnnotationLayer]:
    """The layers whose pending tracks are candidates, detections associated into tracks first."""
    own = [t for t in work if t.status is TrackStatus.CANDIDATE]
    if own:
        yield AnnotationLayer(work.name, own)
    for name in candidate_layers:
        layer = scene.layer(name)
        if is_detection_layer(layer):
            # Detections a person already confirmed or rejected one by one take no further part.
            pending = AnnotationLayer(name, [t for t in layer if t.status is TrackStatus.CANDIDATE])
            yield build_candidates(scene, pending, sweeps=sweeps, params=association)
        else:
            yield layer


def pending_candidate_actions(
    scene: Scene,
    work: AnnotationLayer,
    candidate_layers: Sequence[str],
    *,
    sweeps: SweepSource | None = None,
    priors: SizePriors | None = None,
    settings: CandidateSettings = DEFAULT_CANDIDATE_SETTINGS,
    association: AssociationParams = DEFAULT_PARAMS,
    memo: GuidanceMemo | None = None,
) -> list[Action]:
    """Steps 1 and 2 of the module doc: one action per pending, not yet covered candidate."""
    prior = priors or SizePriors.builtin()
    covering: list[Track] = [t for t in work if t.status is TrackStatus.CONFIRMED]
    actions: list[Action] = []
    for source in candidate_sources(scene, work, candidate_layers, sweeps, association):
        # A candidate without a single shape (every frame absent) shows nothing to act on.
        pending = [t for t in source if t.status is TrackStatus.CANDIDATE and t.frames()]
        kept = uncovered(pending, covering)
        if not kept:
            continue
        # The whole layer is classified: its typical noise sets the floor for its short tracks.
        verdicts = classify_layer(scene, source)
        actions.extend(candidate_actions(scene, source.name, kept, verdicts, prior, settings, memo))
        covering.extend(kept)
    return actions


def next_best_actions(
    scene: Scene,
    work_layer: str,
    candidate_layers: Sequence[str],
    *,
    sweeps: SweepSource | None = None,
    priors: SizePriors | None = None,
    limit: int | None = None,
    measured_track_ids: Set[str] = frozenset(),
    settings: CandidateSettings = DEFAULT_CANDIDATE_SETTINGS,
    association: AssociationParams = DEFAULT_PARAMS,
    missed_frames: Sequence[int] | None = None,
    memo: GuidanceMemo | None = None,
) -> list[Action]:
    """The guidance queue for ``work_layer`` (it may not exist yet) given ``candidate_layers``.

    ``measured_track_ids``: work tracks whose size a person already set at a measurement view (no
    ``measure`` action for them). ``limit`` keeps the first so many actions. ``association`` is how
    detections become candidate tracks (``build_candidates``; e.g. a lower ``birth_confidence`` for a
    source whose scores are plausibilities rather than probabilities). ``missed_frames`` limits the
    search for missed objects to those frames (default: every frame; each costs a ground estimate
    and a clustering of its sweep). A ``memo`` keeps per-track results between calls. See the module
    doc.
    """
    _refuse_ground_truth(work_layer, candidate_layers)
    if limit is not None and limit < 0:
        raise ValueError(f"limit must not be negative, got {limit}")
    work = scene.layers.get(work_layer) or AnnotationLayer(work_layer)
    prior = priors or SizePriors.builtin()
    actions = pending_candidate_actions(
        scene,
        work,
        candidate_layers,
        sweeps=sweeps,
        priors=prior,
        settings=settings,
        association=association,
        memo=memo,
    )
    confirmed = [t for t in work if t.status is TrackStatus.CONFIRMED]
    actions.extend(measure_actions(scene, work.name, confirmed, sweeps, measured_track_ids, memo))
    actions.extend(life_actions(scene, work.name, confirmed, sweeps, memo=memo))
    auto_layers = [scene.layer(name) for name in candidate_layers]
    actions.extend(flag_actions(scene, work.name, confirmed, auto_layers, sweeps, prior))
    if sweeps is not None:
        actions.extend(lidar_missed_actions(scene, [work, *auto_layers], sweeps, missed_frames, memo))
    queue = ranked(actions)
    return queue if limit is None else queue[:limit]
