"""Nudges: rules over a task's recent events that spot a person on a slow path and offer the fast one.

Rules, per track of the work layer (events of one track after its last *situation change*, see below):

* **make_stationary**: at least ``repeated_edits`` single-frame edits (``keyframe_set``, or
  ``track_updated`` that changes the size) on a keyframed track that ``automation.stationary`` calls
  stationary with at least ``stationary_confidence``. The action makes it one world box (key ``s``);
  it saves the frame-by-frame editing of the frames after the last edited one.
* **use_keyframes**: ``keyframe_set`` on at least ``dense_keyframes`` distinct frames within
  ``dense_span_frames`` consecutive frames of a track that does not look stationary, when the
  keyframes ``automation.keyframes.suggest_for_track`` finds on its trajectory are fewer there than
  the person set. The action walks the suggested keyframes (key ``Enter``).
* **go_to_measurement_view**: the latest size change of a track was made at a frame more than
  ``far_from_view_frames`` frames from the measurement view (``automation.measurement_view``) of a
  dimension it changed. The frame is the event's ``frame``, else the payload's ``"frame"``; a size
  change recorded without a frame is not judged. The action opens that view (key ``m``).

Each nudge is given once per track until the situation changes: a ``nudge_shown`` event (payload
``{"kind": <nudge kind>}``, recorded by whoever shows it) silences that kind for that track, and the
events in ``SITUATION_CHANGES`` (the track made stationary or moving, confirmed, created, deleted)
start its history afresh, so only edits after them count and earlier nudges may come again. Only
events within ``window_s`` seconds of the latest one are read. Track ids in events are the work
layer's track ids (the database row ids in scenes loaded by the services).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypeGuard

import numpy as np
from numpy.typing import NDArray

from labelpilot.automation.keyframes import suggest_for_track
from labelpilot.automation.measurement_view import MeasurementView, measurement_views
from labelpilot.automation.stationary import MotionVerdict, classify_track, scene_frame_times
from labelpilot.automation.sweep_access import SweepSource
from labelpilot.guidance.actions import Action
from labelpilot.guidance.candidate_actions import best_seen_frame
from labelpilot.guidance.costs import (
    keyframes_instead_of_stepping_price,
    measure_price,
    stationary_instead_of_stepping_price,
)
from labelpilot.scenes import Scene
from labelpilot.tracks import Keyframed, Track, TrackStatus

FloatArray = NDArray[np.float64]

NudgeKind = Literal["make_stationary", "use_keyframes", "go_to_measurement_view"]
NUDGE_SHOWN = "nudge_shown"
SITUATION_CHANGES = frozenset(
    {
        "track_created",
        "candidate_confirmed",
        "track_made_stationary",
        "track_made_moving",
        "track_deleted",
        "candidate_rejected",
    }
)
_DIMENSIONS = ("length", "width", "height")


@dataclass(frozen=True)
class TaskEvent:
    """One recorded event of a task, as the services keep it (``kind``, track, payload, time)."""

    kind: str
    track_id: str | None
    frame: int | None
    payload: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class Nudge:
    """A hint that a faster path exists, with the action that takes it."""

    kind: NudgeKind
    message: str
    track_id: str
    action: Action | None
    saves_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "message": self.message,
            "track_id": self.track_id,
            "action": None if self.action is None else self.action.to_json(),
            "saves_seconds": self.saves_seconds,
        }


@dataclass(frozen=True)
class NudgeSettings:
    window_s: float = 600.0
    repeated_edits: int = 3
    dense_keyframes: int = 5
    dense_span_frames: int = 8
    far_from_view_frames: int = 5
    stationary_confidence: float = 0.8


DEFAULT_NUDGE_SETTINGS = NudgeSettings()


def event_frame(event: TaskEvent) -> int | None:
    """The frame an event happened at: its own, else the payload's ``"frame"``."""
    if event.frame is not None:
        return int(event.frame)
    value = event.payload.get("frame")
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def size_change(event: TaskEvent) -> tuple[str, ...]:
    """The dimensions a ``track_updated`` event changed (empty when it kept the size)."""
    if event.kind != "track_updated":
        return ()
    before, after = event.payload.get("before"), event.payload.get("after")
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ()
    old, new = before.get("size"), after.get("size")
    if not (_is_size(old) and _is_size(new)):
        return ()
    return tuple(d for d, a, b in zip(_DIMENSIONS, old, new, strict=True) if abs(float(a) - float(b)) > 1e-6)


def _is_size(value: object) -> TypeGuard[list[Any] | tuple[Any, ...]]:
    return isinstance(value, list | tuple) and len(value) == 3


def _recent(events: Sequence[TaskEvent], window_s: float) -> list[TaskEvent]:
    if not events:
        return []
    ordered = sorted(events, key=lambda e: e.at)
    start = ordered[-1].at - timedelta(seconds=window_s)
    return [e for e in ordered if e.at >= start]


def _current_situation(history: list[TaskEvent]) -> list[TaskEvent]:
    """The events after the last situation change (see the module doc)."""
    last = max((i for i, e in enumerate(history) if e.kind in SITUATION_CHANGES), default=-1)
    return history[last + 1 :]


def dense_run(frames: Sequence[int], count: int, span: int) -> list[int]:
    """The largest set of at least ``count`` distinct ``frames`` lying within ``span`` consecutive
    frames (the latest such set on ties), or [] when there is none."""
    unique = sorted(set(frames))
    best: list[int] = []
    lo = 0
    for hi, frame in enumerate(unique):
        while frame - unique[lo] >= span:
            lo += 1
        if hi - lo + 1 >= max(count, len(best)):
            best = unique[lo : hi + 1]
    return best


class _Context:
    """What the rules need from the scene, computed once per call."""

    def __init__(self, scene: Scene, sweeps: SweepSource | None, settings: NudgeSettings) -> None:
        self.scene, self.sweeps, self.settings = scene, sweeps, settings
        self.times = scene_frame_times(scene)
        self.ego = scene.world_T_ego_array()[:, :3, 3]

    def verdict(self, track: Track) -> MotionVerdict:
        return classify_track(track, frame_times_s=self.times, ego_positions=self.ego)

    def looks_stationary(self, verdict: MotionVerdict) -> bool:
        return verdict.stationary and verdict.confidence >= self.settings.stationary_confidence


def _make_stationary(
    track: Track, edits: int, last_edited: int | None, verdict: MotionVerdict, ctx: _Context
) -> Nudge:
    frames = len(track.frames())
    ahead = frames if last_edited is None else sum(1 for f in track.frames() if f > last_edited)
    price = stationary_instead_of_stepping_price(ahead)
    action = Action.priced(
        "confirm_stationary",
        price,
        reason=f"{track.label} looks stationary: {verdict.reason}",
        track_id=track.track_id,
        frame=best_seen_frame(ctx.scene, track),
    )
    message = (
        f"{track.label} {track.track_id} does not move (p {verdict.p_stationary:.2f}) and you edited it "
        f"{edits} times frame by frame: press s to make it one world box for all its {frames} frames."
    )
    return Nudge("make_stationary", message, track.track_id, action, price.saves_seconds)


def _use_keyframes(track: Track, run: list[int]) -> Nudge | None:
    suggested = suggest_for_track(track)
    inside = [f for f in suggested if run[0] <= f <= run[-1]]
    if len(inside) >= len(run):
        return None  # the trajectory needs a keyframe about every frame there: no faster path
    later = [f for f in suggested if f > run[-1]]
    frames_left = sum(1 for f in track.frames() if f > run[-1])
    price = keyframes_instead_of_stepping_price(frames_left, len(later))
    action = Action.priced(
        "confirm_moving",
        price,
        reason=f"{len(suggested)} keyframes reproduce the path of {track.label} over {len(track.frames())} frames",
        track_id=track.track_id,
        frame=later[0] if later else suggested[-1],
        keyframes=suggested,
    )
    message = (
        f"You keyed {len(run)} frames of {track.label} {track.track_id} within {run[-1] - run[0] + 1} frames; "
        f"{len(inside)} keyframe{'s' if len(inside) != 1 else ''} would do there, and {len(suggested)} "
        f"(frames {', '.join(map(str, suggested))}) reproduce its whole path: interpolation fills the rest."
    )
    return Nudge("use_keyframes", message, track.track_id, action, price.saves_seconds)


def _motion_nudge(track: Track, history: list[TaskEvent], shown: set[str], ctx: _Context) -> Nudge | None:
    if not isinstance(track.motion, Keyframed) or not track.frames():
        return None
    keyed = [f for e in history if e.kind == "keyframe_set" and (f := event_frame(e)) is not None]
    edits = len(keyed) + sum(1 for e in history if size_change(e))
    settings = ctx.settings
    run = dense_run(keyed, settings.dense_keyframes, settings.dense_span_frames)
    wants_stationary = edits >= settings.repeated_edits and "make_stationary" not in shown
    wants_keyframes = bool(run) and "use_keyframes" not in shown
    if not (wants_stationary or wants_keyframes):
        return None
    verdict = ctx.verdict(track)
    if ctx.looks_stationary(verdict):
        # A still object is never pushed toward keyframes, only toward one box.
        last_edited = max(keyed, default=None)
        return _make_stationary(track, edits, last_edited, verdict, ctx) if wants_stationary else None
    return _use_keyframes(track, run) if wants_keyframes else None


def _far_view(track: Track, history: list[TaskEvent], ctx: _Context) -> MeasurementView | None:
    resizes = [e for e in history if size_change(e)]
    if not resizes:
        return None
    latest = resizes[-1]
    frame = event_frame(latest)
    if frame is None or not track.frames():
        return None
    views = measurement_views(ctx.scene, track, ctx.sweeps)
    for dimension in size_change(latest):
        view = views[dimension]
        if abs(view.frame - frame) > ctx.settings.far_from_view_frames:
            return view
    return None


def _measure_nudge(track: Track, history: list[TaskEvent], ctx: _Context) -> Nudge | None:
    view = _far_view(track, history, ctx)
    if view is None:
        return None
    price = measure_price(1)
    action = Action.priced(
        "measure",
        price,
        reason=f"measure the {view.dimension} of {track.label} here: {view.reason}",
        track_id=track.track_id,
        frame=view.frame,
        view=view.side,
    )
    message = (
        f"The {view.dimension} of {track.label} {track.track_id} is best measured in the {view.side} view "
        f"at frame {view.frame} ({view.range_m:.0f} m away): press m to go there."
    )
    return Nudge("go_to_measurement_view", message, track.track_id, action, price.saves_seconds)


def nudges(
    events: Sequence[TaskEvent],
    scene: Scene,
    work_layer: str,
    *,
    sweeps: SweepSource | None = None,
    settings: NudgeSettings = DEFAULT_NUDGE_SETTINGS,
) -> list[Nudge]:
    """The nudges the recent ``events`` of a task call for (see the module doc), by track."""
    work = scene.layers.get(work_layer)
    if work is None:
        return []
    by_track: dict[str, list[TaskEvent]] = defaultdict(list)
    for event in _recent(events, settings.window_s):
        if event.track_id is not None:
            by_track[str(event.track_id)].append(event)
    tracks = {t.track_id: t for t in work if t.status is not TrackStatus.REJECTED}
    ctx = _Context(scene, sweeps, settings)
    out: list[Nudge] = []
    for track_id, events_of_track in by_track.items():
        track = tracks.get(track_id)
        if track is None:
            continue
        history = _current_situation(events_of_track)
        shown = {str(e.payload.get("kind")) for e in history if e.kind == NUDGE_SHOWN}
        motion = _motion_nudge(track, history, shown, ctx)
        if motion is not None:
            out.append(motion)
        if "go_to_measurement_view" not in shown:
            measure = _measure_nudge(track, history, ctx)
            if measure is not None:
                out.append(measure)
    return out
