"""Actions for a person's confirmed tracks: measure, review a flag.

* **measure**: for each confirmed track not yet measured, one action per group of nearby frames
  among its measurement views (``automation.measurement_view``): the length is measured from the
  side, the width from the back, often at another frame; none where the track has a keyframe within
  ``SAME_VIEW_FRAMES`` of the view (a person placed or accepted the box there, close-ups in view),
  and none at all for a track whose box a person judged (confirming its candidate, attribute
  ``judged_frame``) within ``SAME_VIEW_FRAMES`` of its best view: the queue opens a candidate there,
  and on the KITTI tracking sequences 0001 and 0009 the measurements offered after such a look found
  a size to correct in none of 151 stationary tracks (and a box to move in one);
* **review_flag**: one per flag of ``automation.flags.track_flags`` (a jump, a yaw flip, lost point
  support, a disagreement with the auto labels, an implausible size).

Objects that no track explains are ``guidance.missed_actions``.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from functools import partial

from labelpilot.automation.flags import Flag, track_flags
from labelpilot.automation.measurement_view import MeasurementView, best_view, measurement_views
from labelpilot.automation.size_priors import SizePriors
from labelpilot.automation.sweep_access import SweepSource
from labelpilot.guidance.actions import Action
from labelpilot.guidance.costs import measure_price, review_flag_price
from labelpilot.guidance.memo import GuidanceMemo, scene_fingerprint, sweeps_kind, track_fingerprint
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Keyframed, Track

SAME_VIEW_FRAMES = 3
"""Measurement views at most this many frames apart are offered as one action."""
JUDGED_FRAME = "judged_frame"
"""Track attribute: the frame where a person judged the box on confirming its candidate."""
_DIMENSION_ORDER = {"length": 0, "width": 1, "height": 2}


def _nearby_groups(views: Sequence[MeasurementView], frames: int) -> list[list[MeasurementView]]:
    """Views whose frames lie within ``frames`` of the previous one form one group (by frame)."""
    groups: list[list[MeasurementView]] = []
    for view in sorted(views, key=lambda v: (v.frame, v.dimension)):
        if groups and view.frame - groups[-1][-1].frame <= frames:
            groups[-1].append(view)
        else:
            groups.append([view])
    return groups


def _track_measure_actions(
    scene: Scene, layer: str, track: Track, sweeps: SweepSource | None
) -> tuple[Action, ...]:
    """The ``measure`` actions of one track of ``layer`` that has a shape (see ``measure_actions``)."""
    keyed = sorted(track.motion.keyframes) if isinstance(track.motion, Keyframed) else []
    views = list(measurement_views(scene, track, sweeps).values())
    judged = track.attributes.get(JUDGED_FRAME)
    # A person judged the box where it is best seen: the close-ups there showed all of it.
    if (
        views
        and isinstance(judged, int)
        and not isinstance(judged, bool)
        and abs(best_view(views).frame - judged) <= SAME_VIEW_FRAMES
    ):
        return ()
    actions: list[Action] = []
    for group in _nearby_groups(views, SAME_VIEW_FRAMES):
        best = best_view(group)
        if any(abs(k - best.frame) <= SAME_VIEW_FRAMES for k in keyed):
            # A keyframe is a box a person placed or accepted with the same close-ups in view.
            continue
        dimensions = [v.dimension for v in sorted(group, key=lambda v: _DIMENSION_ORDER[v.dimension])]
        actions.append(
            Action.priced(
                "measure",
                measure_price(len(dimensions)),
                reason=f"measure the {' and '.join(dimensions)} of {track.label} here: {best.reason}",
                track_id=track.track_id,
                frame=best.frame,
                view=best.side,
                layer=layer,
            )
        )
    return tuple(actions)


def measure_actions(
    scene: Scene,
    layer: str,
    tracks: Sequence[Track],
    sweeps: SweepSource | None = None,
    measured: Set[str] = frozenset(),
    memo: GuidanceMemo | None = None,
) -> list[Action]:
    """Where to measure each track of ``tracks`` (of ``layer``) whose id is not in ``measured``.

    Views a few frames apart (``SAME_VIEW_FRAMES``) look the same: they make one action, opened at
    the best scoring of them, since the close-up views (top, side, back) are shown together. With a
    ``memo``, a track's actions are computed only when the track, the scene's frames and sensors or
    whether (and which kind of) sweeps are given changed.
    """
    to_measure = [t for t in tracks if t.track_id not in measured and t.frames()]
    if memo is None:
        return [a for track in to_measure for a in _track_measure_actions(scene, layer, track, sweeps)]
    scene_key, sweeps_key = scene_fingerprint(scene), sweeps_kind(sweeps)
    actions: list[Action] = []
    for track in to_measure:
        key = ("measure_actions", scene_key, track_fingerprint(track), layer, sweeps_key)
        actions.extend(memo.get_or_compute(key, partial(_track_measure_actions, scene, layer, track, sweeps)))
    return actions


def _flag_action(flag: Flag, layer: str, life_frames: int) -> Action:
    return Action.priced(
        "review_flag",
        review_flag_price(flag.severity, life_frames),
        reason=f"{flag.kind.replace('_', ' ')}: {flag.message}",
        track_id=flag.track_id,
        frame=flag.frame,
        layer=layer,
        center_world=flag.center_world,
    )


def flag_actions(
    scene: Scene,
    layer: str,
    tracks: Sequence[Track],
    auto_layers: Sequence[AnnotationLayer] = (),
    sweeps: SweepSource | None = None,
    priors: SizePriors | None = None,
) -> list[Action]:
    """One review action per flag on each track of ``tracks`` (of ``layer``)."""
    actions: list[Action] = []
    for track in tracks:
        flags = track_flags(scene, track, auto_layers=auto_layers, sweeps=sweeps, priors=priors)
        actions.extend(_flag_action(f, layer, len(track.frames())) for f in flags)
    return actions
