"""The scan sweep every keyframe workflow shares: find every object, key it at the scanned frames,
and find where its life starts and ends.

The annotator scans frames at a stride (a jump and a scan each). An object no shape is on is drawn
where it is first seen, or, if the annotator already has a track for it, that track is extended to
the frame (select, extend, look, correct; LabelPilot's extend puts a moving track's box where its
keyframes lead, today's tools hold the last one). With LabelPilot (``offer_stationary``) a track found
right a scan later with its one keyframe is marked stationary, and a track the annotator drew is then
carried on by the tool's proposed life (``guidance.life_actions``), stretch after stretch: one key
accepts it, and a weak end is looked at there (the queue opens it). Where a known object has vanished
by the next scan, the frame where its life really ends is found by bisection (a jump and a look per
probe); likewise the frame where a track's life starts. Shapes in between come from the editor's
interpolation.
"""

from __future__ import annotations

from dataclasses import dataclass

from labelpilot.effort.annotator import Annotator, shape_at
from labelpilot.geometry import Cuboid
from labelpilot.tracks import Keyframed


@dataclass(frozen=True)
class SweepPolicy:
    stride: int
    """Frames between two scanned frames."""
    offer_stationary: bool
    """Mark a track stationary when its held world box still passes at the next scanned frame (the
    world-frame tool shows that; a sensor-frame tool cannot)."""


def scan_frames(frame_count: int, stride: int) -> list[int]:
    frames = list(range(0, frame_count, stride))
    if frames[-1] != frame_count - 1:
        frames.append(frame_count - 1)
    return frames


def _shown(ann: Annotator, frame: int) -> list[Cuboid]:
    shapes = (shape_at(t, frame) for t in ann.editor.work_tracks())
    return [s for s in shapes if s is not None]


def _carry_on(ann: Annotator, track_id: str, object_id: str) -> None:
    """Accept the life the tool proposes past a drawn track's last frame, stretch after stretch: look
    at each end the evidence leaves weak (the queue opens it) and carry on from there while the object
    is there; where it is gone, find the real end from there."""
    while True:
        items = ann.editor.proposed_life(track_id)
        offer = next((a for a in items if a.kind == "accept_life" and a.life is not None), None)
        if offer is None or offer.life is None:
            return
        first, last = offer.life
        weak = {a.frame: a for a in items if a.kind == "check_end"}
        ann.accept_life(track_id, first, last, set(weak))
        if last not in weak:
            return
        ann.open_action(weak[last], object_id=object_id)
        ann.check_end(track_id, last)
        if ann.editor.track(track_id).last_frame != last or last not in ann.made_right(track_id):
            return


def _extend(ann: Annotator, track_id: str, object_id: str, frame: int, policy: SweepPolicy) -> None:
    """Bring a known object's track to ``frame`` where the scan found the object without a shape."""
    ann.ledger.charge("select", object_id)
    ann.extend_to(track_id, frame)
    verdict = ann.inspect(track_id, frame)
    if verdict.passes:
        track = ann.editor.track(track_id)
        # One keyframe held still and right again a scan later: one world box fits it. (A track that
        # has needed more keyframes already would move boxes the annotator has judged.)
        single_key = isinstance(track.motion, Keyframed) and len(track.motion.keyframes) == 1
        if policy.offer_stationary and single_key:
            ann.ledger.charge("mark_stationary", object_id)
            # The box it holds was just found right: it stays exactly there.
            shape = shape_at(ann.editor.track(track_id), frame)
            assert shape is not None
            ann.editor.make_stationary(track_id, shape.pose)
    else:
        ann.fix(track_id, frame, verdict)
    if policy.offer_stationary and ann.editor.track(track_id).provenance.kind == "manual":
        _carry_on(ann, track_id, object_id)


def _search_ends(ann: Annotator, frame: int, previous: int | None, following: int | None) -> None:
    """For known objects absent at scanned ``frame``: where did their tracks' lives really end/start?"""
    for track in ann.editor.work_tracks():
        object_id = ann.owner.get(track.track_id)
        if object_id is None or track.has_shape(frame):
            continue
        ended_since = track.last_frame < frame and (previous is None or track.last_frame >= previous)
        starts_before_next = track.first_frame > frame and (
            following is None or track.first_frame <= following
        )
        if ended_since and ann.is_accepted_end(track.track_id, track.last_frame):
            continue  # the annotator took this end from the tool's evidence
        if starts_before_next and ann.is_accepted_end(track.track_id, track.first_frame):
            continue
        if ended_since or starts_before_next:
            ann.search_from(track.track_id, object_id, frame)


def sweep(ann: Annotator, policy: SweepPolicy) -> None:
    """Scan the scene at the policy's stride, drawing or extending tracks for every object found."""
    frames = scan_frames(len(ann.editor.scene.frames), policy.stride)
    for i, frame in enumerate(frames):
        ann.step_to(frame, policy.stride)
        previous = frames[i - 1] if i > 0 else None
        following = frames[i + 1] if i + 1 < len(frames) else None
        missing = ann.oracle.scan(frame, _shown(ann, frame))
        for object_id in missing:
            track_id = ann.track_of.get(object_id)
            if track_id is not None and track_id not in ann.deleted:
                _extend(ann, track_id, object_id, frame, policy)
                continue
            track_id = ann.draw(object_id, frame)
            if previous is not None:
                # Not reported by the previous scan, so absent there: its life starts in between.
                ann.search_from(track_id, object_id, previous)
        _search_ends(ann, frame, previous, following)
