"""Actions for candidate tracks: confirm as stationary, confirm with keyframes, or reject.

Each pending candidate gets exactly one action:

* **reject_false_positive** when it is likely false: its score is below ``min_score``, or it has both
  an implausible size for its class (``SizePriors.check``; only for class names the project knows,
  a wildcard such as ``unknown`` has no size to check) and fewer than ``few_detections`` detections,
  or it is a vehicle whose detections are both unsure and few (``weak_vehicle_*``: a class-specific
  threshold; no such rule held for pedestrians and cyclists).
  Measured against KITTI ground truth (sequences 0000, 0001, 0004, PointRCNN candidates), an
  implausible size alone was a real van or truck called ``Car`` in every case, so it does not
  reject on its own; it and few detections are still named in the reason;
* **confirm_stationary** when ``automation.stationary`` calls it stationary with at least
  ``stationary_confidence``; priced against confirming it by the keyframes its own trajectory needs;
* **confirm_moving** otherwise, with the keyframes ``automation.keyframes.suggest_for_track`` finds on
  its own trajectory; priced against stepping through every frame.

The frame an action opens is where the candidate is best seen: the best of its measurement views
(``automation.measurement_view``) judged from range, viewing angle and detection confidence. Lidar
is left out here: it would read every sweep of every candidate's life, and the view to measure in
(with lidar) is offered once the track is confirmed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

from labelpilot.automation.classes import ClassFamily, class_family, is_known_label
from labelpilot.automation.keyframes import suggest_for_track
from labelpilot.automation.measurement_view import best_view, measurement_views
from labelpilot.automation.size_priors import SizePriors
from labelpilot.automation.stationary import MotionVerdict
from labelpilot.guidance.actions import Action
from labelpilot.guidance.costs import confirm_moving_price, confirm_stationary_price, reject_price
from labelpilot.guidance.memo import (
    GuidanceMemo,
    priors_fingerprint,
    scene_fingerprint,
    track_fingerprint,
    verdict_fingerprint,
)
from labelpilot.scenes import Scene
from labelpilot.tracks import Keyframed, Track


@dataclass(frozen=True)
class CandidateSettings:
    """When a candidate counts as stationary or as a likely false positive."""

    stationary_confidence: float = 0.8
    min_score: float = 0.25
    """Below this track score a candidate is a likely false positive. On KITTI PointRCNN candidates
    (score in [0, 1] from ``track_scoring``) 95-98 % of those below 0.25 matched no ground-truth object."""
    few_detections: int = 4
    size_z: float = 3.0
    weak_vehicle_confidence: float = 0.88
    weak_vehicle_detections: int = 10
    """A vehicle candidate with a mean detection confidence below ``weak_vehicle_confidence`` (a
    PointRCNN logit of 2) and fewer than ``weak_vehicle_detections`` detections is a likely false
    positive. Chosen on the KITTI PointRCNN candidates the queue offered for confirmation in sequences
    0000-0005 (100 such, 4 with a labelled object within 2 m) and held out on 0006-0010 (72 such, 1).
    The same rule for pedestrians kept 16 % real objects on the held-out sequences, so it is for
    vehicles only."""


DEFAULT_CANDIDATE_SETTINGS = CandidateSettings()


@dataclass(frozen=True)
class FalsePositiveEvidence:
    """The signs that a candidate is not a real object, and a sentence for each."""

    low_score: bool
    implausible_size: bool
    few_detections: bool
    reasons: tuple[str, ...] = field(default=())
    weak_vehicle: bool = False

    @property
    def likely(self) -> bool:
        return self.low_score or self.weak_vehicle or (self.implausible_size and self.few_detections)


def detection_count(track: Track) -> int:
    """Detections behind a candidate: as recorded by candidate building, else its keyframes."""
    recorded = track.attributes.get("detections")
    if isinstance(recorded, int) and not isinstance(recorded, bool):
        return recorded
    if isinstance(track.motion, Keyframed):
        return sum(1 for f in track.motion.keyframes if track.has_shape(f))
    return len(track.frames())


def false_positive_evidence(
    track: Track, priors: SizePriors, settings: CandidateSettings = DEFAULT_CANDIDATE_SETTINGS
) -> FalsePositiveEvidence:
    reasons: list[str] = []
    low = track.score is not None and track.score < settings.min_score
    if low:
        reasons.append(f"score {track.score:.2f} below {settings.min_score:g}")
    implausible = False
    if is_known_label(track.label):
        check = priors.check(track.label, track.size, settings.size_z)
        implausible = check.implausible
        if implausible:
            reasons.append(check.reason)
    detections = detection_count(track)
    few = detections < settings.few_detections
    if few:
        reasons.append(f"only {detections} detection{'s' if detections != 1 else ''}")
    confidence = track.attributes.get("mean_confidence")
    weak_vehicle = (
        class_family(track.label) is ClassFamily.VEHICLE
        and isinstance(confidence, float)
        and confidence < settings.weak_vehicle_confidence
        and detections < settings.weak_vehicle_detections
    )
    if weak_vehicle:
        reasons.append(
            f"{detections} detections of mean confidence {confidence:.2f} (a {track.label} needs "
            f"{settings.weak_vehicle_detections} or a confidence of {settings.weak_vehicle_confidence:g})"
        )
    return FalsePositiveEvidence(low, implausible, few, tuple(reasons), weak_vehicle)


def best_seen_frame(scene: Scene, track: Track) -> int:
    """The frame of the track's best measurement view (range, angle, detection confidence)."""
    views = measurement_views(scene, track)
    return best_view(views.values()).frame


def _stationary_action(scene: Scene, layer: str, track: Track, verdict: MotionVerdict) -> Action:
    needed = len(suggest_for_track(track))
    frames = len(track.frames())
    reason = (
        f"{track.label} looks stationary (p {verdict.p_stationary:.2f}; {verdict.reason}): "
        f"one world box for its {frames} frames instead of {needed} keyframes"
    )
    return Action.priced(
        "confirm_stationary",
        confirm_stationary_price(needed),
        reason=reason,
        track_id=track.track_id,
        frame=best_seen_frame(scene, track),
        layer=layer,
    )


def _moving_action(scene: Scene, layer: str, track: Track, verdict: MotionVerdict) -> Action:
    keyframes = suggest_for_track(track)
    frames = len(track.frames())
    reason = (
        f"{track.label} moves ({verdict.speed_mps:.1f} m/s, p stationary {verdict.p_stationary:.2f}): "
        f"{len(keyframes)} keyframes reproduce its {frames} frames"
    )
    return Action.priced(
        "confirm_moving",
        confirm_moving_price(frames, len(keyframes)),
        reason=reason,
        track_id=track.track_id,
        frame=best_seen_frame(scene, track),
        keyframes=keyframes,
        layer=layer,
    )


def _reject_action(scene: Scene, layer: str, track: Track, evidence: FalsePositiveEvidence) -> Action:
    return Action.priced(
        "reject_false_positive",
        reject_price(),
        reason=f"{track.label} is likely a false positive: " + "; ".join(evidence.reasons),
        track_id=track.track_id,
        frame=best_seen_frame(scene, track),
        layer=layer,
    )


def candidate_action(
    scene: Scene,
    layer: str,
    track: Track,
    verdict: MotionVerdict,
    priors: SizePriors,
    settings: CandidateSettings = DEFAULT_CANDIDATE_SETTINGS,
) -> Action:
    """The one action for a pending candidate of ``layer`` (see the module doc)."""
    evidence = false_positive_evidence(track, priors, settings)
    if evidence.likely:
        return _reject_action(scene, layer, track, evidence)
    if verdict.stationary and verdict.confidence >= settings.stationary_confidence:
        return _stationary_action(scene, layer, track, verdict)
    return _moving_action(scene, layer, track, verdict)


def candidate_actions(
    scene: Scene,
    layer: str,
    tracks: Sequence[Track],
    verdicts: Mapping[str, MotionVerdict],
    priors: SizePriors,
    settings: CandidateSettings = DEFAULT_CANDIDATE_SETTINGS,
    memo: GuidanceMemo | None = None,
) -> list[Action]:
    """One action per track of ``tracks`` (pending candidates of ``layer``), in their order.

    With a ``memo``, a candidate's action is computed only when the candidate, its verdict, the scene's
    frames and sensors, the priors or the settings changed since it was last computed.
    """
    if memo is None:
        return [candidate_action(scene, layer, t, verdicts[t.track_id], priors, settings) for t in tracks]
    scene_key, priors_key = scene_fingerprint(scene), priors_fingerprint(priors)
    actions: list[Action] = []
    for track in tracks:
        verdict = verdicts[track.track_id]
        key = (
            "candidate_action",
            scene_key,
            track_fingerprint(track),
            layer,
            verdict_fingerprint(verdict),
            priors_key,
            settings,
        )
        compute = partial(candidate_action, scene, layer, track, verdict, priors, settings)
        actions.append(memo.get_or_compute(key, compute))
    return actions
