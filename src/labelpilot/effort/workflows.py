"""The four workflows every effort run compares (EFFORT_MODEL.md, plus one to separate two gains).

* ``frame_by_frame`` — the baseline: step through every frame; scan it for objects without a shape and
  draw them; carry every tracked object's box forward (copy forward), look at it, correct it when it
  fails, cut it when the object is gone.
* ``keyframes_sensor_frame`` — today's open-source tools: scan at a stride (a frame-step key, as such
  tools have), keyframes where the scans found the object, interpolation in the sensor frame, checks by
  bisection between keyframes, each reached with a mouse jump.
* ``guided_without_auto_labels`` — LabelPilot without auto labels: the same scans and bisection with
  world-frame interpolation, stationary objects kept as one world box, then the guidance queue
  (measurement views, flags).
* ``guided`` — LabelPilot: first every candidate the queue suggests as a false positive is rejected
  with one key (alt+x, without a look); then the guidance queue's other candidates (auto labels) are
  confirmed, marked stationary or rejected (a candidate that a track confirmed meanwhile already
  covers has left the queue, as in the editor, and costs nothing), corrected at the suggested frames
  (a stationary candidate in the stationary review, judged by the one world box confirming it gives;
  where a suggested keyframe shows the object not there yet, or gone, the end search from there finds
  where its life really starts or ends);
  then each confirmed track's life proposed from the evidence (``automation.life_evidence``) is
  accepted with one key, and only the ends the evidence leaves weak are looked at (each opened by the
  queue); the annotator searches for none of the accepted ends, which are delivered as they are. Then
  the scans find what the candidates missed and where the other lives really start and end;
  bisection; the rest of the queue.

Both LabelPilot workflows have the product's navigation keys (``annotator_tools``): the check key
opens the next frame of a track to look at (``guidance.checks``: a stretch where the track's own
detections agree with its box may stay unseen longer), the end search opens the middle of the bracket
where a life ends, and a key goes to the next scanned frame.

Every workflow ends with submitting the task. The policies (stride, how long a stretch may stay
unchecked) are the same for every workflow that uses them, fixed here, not tuned per run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from labelpilot.effort.annotator import Annotator, InterpolationMode, shape_at
from labelpilot.effort.sweep import SweepPolicy, sweep
from labelpilot.guidance.actions import Action
from labelpilot.guidance.checks import DEFAULT_LIMIT_SECONDS, CheckLimits
from labelpilot.guidance.coverage import covering_tracks
from labelpilot.tracks import Track, TrackStatus, as_stationary

WorkflowName = Literal["frame_by_frame", "keyframes_sensor_frame", "guided_without_auto_labels", "guided"]
WORKFLOWS: tuple[WorkflowName, ...] = (
    "frame_by_frame",
    "keyframes_sensor_frame",
    "guided_without_auto_labels",
    "guided",
)
CANDIDATE_KINDS = frozenset({"confirm_stationary", "confirm_moving", "reject_false_positive"})


@dataclass(frozen=True)
class WorkflowSettings:
    scan_stride_s: float = 1.0
    """Seconds of scene between two frames scanned for objects without a shape."""
    max_unchecked_moving_s: float = DEFAULT_LIMIT_SECONDS[0]
    """Longest stretch of a moving track's interpolated frames left without a look."""
    max_unchecked_stationary_s: float = DEFAULT_LIMIT_SECONDS[1]
    """The same for a stationary track (one world box: it can only go wrong through the poses)."""
    max_unchecked_supported_s: float = DEFAULT_LIMIT_SECONDS[2]
    """The same for a stretch of a moving track where its own detections agree closely with its box
    (LabelPilot's check key knows that; ``guidance.checks``)."""
    frame_period_s: float = 0.1

    def frames(self, seconds: float) -> int:
        return max(1, round(seconds / self.frame_period_s))

    def limits(self) -> CheckLimits:
        return CheckLimits.from_seconds(
            self.max_unchecked_moving_s,
            self.max_unchecked_stationary_s,
            self.max_unchecked_supported_s,
            self.frame_period_s,
        )


def _check_all(ann: Annotator, settings: WorkflowSettings) -> None:
    limits = settings.limits()
    for track in ann.editor.work_tracks():
        ann.bisect(track.track_id, limits)


def frame_by_frame(ann: Annotator, settings: WorkflowSettings) -> None:
    del settings  # every frame is looked at
    active: list[str] = []
    for frame in range(len(ann.editor.scene.frames)):
        ann.goto(frame)
        still: list[str] = []
        for track_id in active:
            object_id = ann.owner[track_id]
            ann.ledger.charge("accept", object_id)  # copy the box forward
            previous = shape_at(ann.editor.track(track_id), frame - 1)
            assert previous is not None
            ann.editor.set_keyframe(track_id, frame, previous.pose)
            verdict = ann.inspect(track_id, frame)
            if not verdict.present:
                ann.mark_absent(track_id, frame)
                continue
            ann.fix(track_id, frame, verdict)
            still.append(track_id)
        shown = [s for t in ann.editor.work_tracks() if (s := shape_at(t, frame)) is not None]
        for object_id in ann.oracle.scan(frame, shown):
            known = ann.track_of.get(object_id)
            if known is None or known in ann.deleted:
                still.append(ann.draw(object_id, frame))
                continue
            # The object is back after frames without it: draw it again, in its old track.
            ann.ledger.charge("draw_cuboid", object_id)
            track = ann.editor.track(known)
            gap = list(range(track.last_frame + 1, frame))
            ann.editor.set_keyframe(known, frame, ann.oracle.measured(object_id, frame).pose)
            if gap:
                ann.editor.set_absent(known, gap)
            ann.checked.setdefault(known, set()).add(frame)
            still.append(known)
        active = list(dict.fromkeys(still))


def keyframes_sensor_frame(ann: Annotator, settings: WorkflowSettings) -> None:
    sweep(ann, SweepPolicy(stride=settings.frames(settings.scan_stride_s), offer_stationary=False))
    _check_all(ann, settings)


def _follow_queue(ann: Annotator, kinds: frozenset[str]) -> None:
    """Work through the queue's items of ``kinds`` that are not candidate decisions."""
    for action in ann.editor.guidance():
        if action.kind not in kinds or action.track_id is None:
            continue
        track_id = action.track_id
        if track_id in ann.deleted:
            continue
        ann.open_action(action, object_id=ann.owner.get(track_id))
        track = ann.editor.track(track_id)
        if not track.has_shape(action.frame):
            continue
        ann.check_frame(track_id, action.frame)


def guided_without_auto_labels(ann: Annotator, settings: WorkflowSettings) -> None:
    sweep(ann, SweepPolicy(stride=settings.frames(settings.scan_stride_s), offer_stationary=True))
    _check_all(ann, settings)
    _follow_queue(ann, frozenset({"measure", "review_flag"}))


def _decide(ann: Annotator, action: Action, candidate: Track) -> None:
    """One candidate item: look at it where the queue opens it, then reject or confirm and correct."""
    frame = action.frame if candidate.has_shape(action.frame) else candidate.frames()[0]
    ann.open_action(action, frame)
    stationary = action.kind == "confirm_stationary"
    # The stationary review (key r) shows the one world box that confirming it as stationary gives, at
    # its best close-up: the look judges that box. A moving candidate is judged by its own box there.
    shape = shape_at(as_stationary(candidate) if stationary else candidate, frame)
    assert shape is not None
    verdict = ann.oracle.inspect(shape, candidate.label, frame)
    object_id = verdict.object_id
    if object_id is None or not verdict.present or object_id in ann.track_of:
        ann.ledger.charge("reject", object_id)
        ann.editor.reject([candidate.track_id])
        return
    if stationary:
        ann.ledger.charge("mark_stationary", object_id)  # one key confirms it as stationary
        track = ann.editor.confirm(candidate.track_id, judged_frame=frame)
        ann.editor.make_stationary(track.track_id)
        ann.remember(track.track_id, object_id)
        ann.checked[track.track_id] = {frame}
        if verdict.passes:
            ann.passed[track.track_id] = {frame}
        ann.fix(track.track_id, frame, verdict)
        return
    ann.ledger.charge("accept", object_id)
    keyframes = [f for f in action.keyframes if candidate.has_shape(f)] or None
    track = ann.editor.confirm(candidate.track_id, keyframes, judged_frame=frame)
    ann.remember(track.track_id, object_id)
    ann.checked[track.track_id] = {frame}
    ann.fix(track.track_id, frame, verdict)
    for keyframe in action.keyframes:
        if keyframe == frame or track.track_id in ann.deleted:
            continue
        if not ann.editor.track(track.track_id).has_shape(keyframe):
            continue
        ann.open_item(keyframe, object_id)  # the next suggested keyframe, by key
        ann.check_end(track.track_id, keyframe)


def _settle_lives(ann: Annotator) -> None:
    """The queue's proposed lives of the confirmed candidates: accept each with one key, then look only
    at the ends the evidence left weak (each opened by key, in the queue's frame order), but for those
    already found right (a suggested keyframe there: the editor's queue skips the item); a weak end
    where the object is not found right is searched for from there."""
    queue = [a for a in ann.editor.guidance() if a.track_id in ann.owner and a.track_id not in ann.deleted]
    weak: dict[str, set[int]] = {}
    for action in queue:
        if action.kind == "check_end" and action.track_id is not None:
            weak.setdefault(action.track_id, set()).add(action.frame)
    for action in queue:
        if action.kind == "accept_life" and action.track_id is not None and action.life is not None:
            first, last = action.life
            ann.accept_life(action.track_id, first, last, weak.get(action.track_id, set()))
    for action in queue:
        track_id = action.track_id
        if action.kind != "check_end" or track_id is None or track_id in ann.deleted:
            continue
        track = ann.editor.track(track_id)
        if action.frame not in (track.first_frame, track.last_frame):
            continue  # the life changed since the proposal: the scans find the object where it is
        if action.frame in ann.passed.get(track_id, set()):
            continue  # found right there already (a suggested keyframe): the editor skips the item
        ann.open_action(action, object_id=ann.owner.get(track_id))
        ann.check_end(track_id, action.frame)


def _reject_suggested(ann: Annotator, queue: list[Action], candidates: dict[str, Track]) -> None:
    """Every candidate the queue suggests as a false positive, rejected at once (alt+x): the tool's
    own verdict, taken without a look; a real object it throws away comes back when a scan finds it
    without a shape."""
    suggested = [a.track_id for a in queue if a.kind == "reject_false_positive" and a.track_id in candidates]
    if not suggested:
        return
    ann.ledger.charge("reject")
    ann.editor.reject(suggested)
    for track_id in suggested:
        del candidates[track_id]


def guided(ann: Annotator, settings: WorkflowSettings) -> None:
    candidates = ann.editor.candidates()
    queue = ann.editor.guidance()
    _reject_suggested(ann, queue, candidates)
    for action in queue:
        if action.kind in CANDIDATE_KINDS and action.track_id in candidates:
            candidate = candidates.pop(action.track_id)
            confirmed = [t for t in ann.editor.work_tracks() if t.status is TrackStatus.CONFIRMED]
            if covering_tracks([candidate], confirmed)[0] is not None:
                continue  # the queue drops a candidate that a track confirmed since already covers
            _decide(ann, action, candidate)
    _settle_lives(ann)
    sweep(ann, SweepPolicy(stride=settings.frames(settings.scan_stride_s), offer_stationary=True))
    _check_all(ann, settings)
    _follow_queue(ann, frozenset({"measure", "review_flag"}))


RUNNERS: dict[WorkflowName, Callable[[Annotator, WorkflowSettings], None]] = {
    "frame_by_frame": frame_by_frame,
    "keyframes_sensor_frame": keyframes_sensor_frame,
    "guided_without_auto_labels": guided_without_auto_labels,
    "guided": guided,
}


def annotator_tools(name: WorkflowName) -> tuple[InterpolationMode, bool]:
    """(interpolation mode, LabelPilot's navigation keys) the annotator works with in workflow ``name``:
    today's open-source tools interpolate in the sensor frame and have a frame-step key, no check key
    or end search."""
    if name == "keyframes_sensor_frame":
        return "sensor", False
    return "world", True


def run_workflow(name: WorkflowName, ann: Annotator, settings: WorkflowSettings) -> None:
    """Run one workflow to the end and submit the task."""
    RUNNERS[name](ann, settings)
    ann.ledger.charge("submit")
    ann.editor.submit()
