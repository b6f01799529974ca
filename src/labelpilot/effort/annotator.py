"""The simulated annotator's skills: look, draw, correct, find where an object's life starts and ends,
and check an interpolated track by bisection. Every step is charged; every edit goes through the editor.

The annotator remembers which object each of its tracks is for (it learned that from a paid look) and
which frames of each track it has looked at. It works in one of two interpolation modes: ``world`` (the
product: keyframes are world poses, the editor interpolates between them) or ``sensor`` (today's
open-source tools: keyframes interpolated in the sensor frame, without ego-motion compensation). The
editor only stores world keyframes, so in ``sensor`` mode the annotator's tool fills every frame of the
track with the sensor-frame interpolation (free: the tool does it, not the person).
"""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass, field
from typing import Literal

from labelpilot.effort.editor import Editor
from labelpilot.effort.ledger import Ledger
from labelpilot.effort.oracle import Oracle, Verdict, correction_action
from labelpilot.effort.sensor_frame import sensor_frame_poses
from labelpilot.geometry import Cuboid, Pose
from labelpilot.guidance.actions import Action
from labelpilot.guidance.checks import CheckLimits, Judged, next_check, supported_frames
from labelpilot.guidance.end_search import EndSearch, closed_life, narrow, probe, seen_frames, start_search
from labelpilot.tracks import Keyframed, Stationary, Track, world_shapes

InterpolationMode = Literal["world", "sensor"]


def shape_at(track: Track, frame: int) -> Cuboid | None:
    """The track's world box in ``frame`` (None where it has none)."""
    motion = track.motion
    if isinstance(motion, Keyframed) and len(motion.keyframes) > 2 and track.has_shape(frame):
        # Only the two keyframes around the frame shape it: interpolate between those alone.
        keys = sorted(motion.keyframes)
        i = bisect.bisect_left(keys, frame)
        near = keys[max(i - 1, 0) : i + 1]
        track = dataclasses.replace(track, motion=Keyframed({k: motion.keyframes[k] for k in near}))
    shapes = world_shapes(track, [frame])
    return shapes.cuboids[0] if len(shapes) else None


@dataclass
class Annotator:
    editor: Editor
    oracle: Oracle
    mode: InterpolationMode = "world"
    keys: bool = True
    """Whether the annotator has LabelPilot's navigation keys: the check key (``guidance.checks``), the
    end search and the next scan frame, each opening the frame the tool computes (K, not a jump)."""
    owner: dict[str, str] = field(default_factory=dict)
    """track id -> the ground-truth object it is for (as the annotator learned by looking)."""
    track_of: dict[str, str] = field(default_factory=dict)
    """object id -> the annotator's track for it."""
    checked: dict[str, set[int]] = field(default_factory=dict)
    """track id -> frames the annotator has looked at (and corrected where needed)."""
    sensor_keys: dict[str, dict[int, Pose]] = field(default_factory=dict)
    """``sensor`` mode: the annotator's own keyframes per track (world poses where it set them)."""
    frame: int = 0
    """The frame on screen."""
    deleted: set[str] = field(default_factory=set)
    passed: dict[str, set[int]] = field(default_factory=dict)
    fixed: dict[str, set[int]] = field(default_factory=dict)
    """track id -> frames the annotator corrected."""
    accepted_ends: dict[str, set[int]] = field(default_factory=dict)
    """track id -> ends of a life the annotator accepted from the tool's proposal without a look (the
    evidence was strong); an accepted end is not searched for, and is delivered as it is."""

    @property
    def ledger(self) -> Ledger:
        return self.oracle.ledger

    # -- navigation ------------------------------------------------------------------------------------
    def goto(self, frame: int, object_id: str | None = None) -> None:
        """Bring ``frame`` on screen: a key for the next or previous frame, else a jump."""
        if frame == self.frame:
            return
        self.ledger.charge("next_frame" if abs(frame - self.frame) == 1 else "jump_to_frame", object_id)
        self.frame = frame

    def open_frame(self, frame: int, object_id: str | None = None) -> None:
        """Bring ``frame`` on screen where the tool computed it (check key, end search): with LabelPilot's
        keys one key press, else the person gets there by a jump."""
        if not self.keys:
            self.goto(frame, object_id)
        elif frame != self.frame:
            self.open_item(frame, object_id)

    def step_to(self, frame: int, stride: int) -> None:
        """The next scanned frame: LabelPilot's next-scan key, or a step key (a frame-step of ``stride``,
        as tools offer) from the previous scanned frame, or the last-frame key; a jump from elsewhere."""
        last = len(self.editor.scene.frames) - 1
        if self.keys or frame - self.frame == stride or frame == last:
            if frame != self.frame:
                self.ledger.charge("next_frame")
                self.frame = frame
        else:
            self.goto(frame)

    def open_item(self, frame: int, object_id: str | None = None) -> None:
        """Go to the next item of the guidance queue by key; the tool opens its frame."""
        self.ledger.charge("next_item", object_id)
        self.frame = frame

    def open_action(self, action: Action, frame: int | None = None, object_id: str | None = None) -> None:
        """Open a queue item by key at its frame (or at ``frame``), the opening recorded as the editor
        records it."""
        self.editor.item_opened(action)
        self.open_item(action.frame if frame is None else frame, object_id)

    # -- looking ---------------------------------------------------------------------------------------
    def remember(self, track_id: str, object_id: str) -> None:
        self.owner[track_id] = object_id
        self.track_of[object_id] = track_id

    def inspect(self, track_id: str, frame: int) -> Verdict:
        """Look at the track's shape in ``frame`` (on screen); learn which object it is on."""
        track = self.editor.track(track_id)
        shape = shape_at(track, frame)
        if shape is None:
            raise ValueError(f"track {track_id} has no shape in frame {frame}")
        verdict = self.oracle.inspect(shape, track.label, frame, self.owner.get(track_id))
        if verdict.object_id is not None and track_id not in self.owner:
            self.remember(track_id, verdict.object_id)
        self.checked.setdefault(track_id, set()).add(frame)
        if verdict.present and verdict.passes:
            self.passed.setdefault(track_id, set()).add(frame)
        return verdict

    # -- editing -------------------------------------------------------------------------------------------
    def draw(self, object_id: str, frame: int) -> str:
        """Draw a new cuboid for an object seen in ``frame``; returns the new track's id."""
        self.ledger.charge("draw_cuboid", object_id)
        box = self.oracle.measured(object_id, frame)
        track = self.editor.create_track(
            self.oracle.label(object_id, frame), box.size, keyframes={frame: box.pose}
        )
        self.remember(track.track_id, object_id)
        self.checked[track.track_id] = {frame}
        if self.mode == "sensor":
            self.sensor_keys[track.track_id] = {frame: box.pose}
        return track.track_id

    def fix(self, track_id: str, frame: int, verdict: Verdict) -> Track:
        """Make the failing shape pass with the corrections the inspection showed."""
        track = self.editor.track(track_id)
        object_id = verdict.object_id
        if verdict.passes or object_id is None or not verdict.present:
            return track
        for correction in verdict.corrections:
            self.ledger.charge(correction_action(correction), object_id)
        self.fixed.setdefault(track_id, set()).add(frame)
        if "set_class" in verdict.corrections:
            track = self.editor.set_label(track_id, self.oracle.label(object_id, frame))
        shape = shape_at(track, frame)
        assert shape is not None
        fixed = self.oracle.corrected(shape, object_id, frame, verdict.corrections)
        if any(c.startswith("resize") for c in verdict.corrections):
            track = self.editor.set_size(track_id, fixed.size)
        if any(c in ("move", "rotate") for c in verdict.corrections):
            track = self.set_pose(track_id, frame, fixed.pose)
        return track

    def set_pose(self, track_id: str, frame: int, pose: Pose) -> Track:
        """Place the track's box in ``frame`` (a keyframe; a stationary track moves as a whole)."""
        track = self.editor.track(track_id)
        if track.is_stationary:
            judged = self.made_right(track_id) - {frame}
            if not judged:
                return self.editor.make_stationary(track_id, pose)
            # The box was right elsewhere: the object is not where one world box can hold it (moving,
            # or the ego poses drift), so key it, keeping the frames already found right.
            self.ledger.charge("mark_stationary", self.owner.get(track_id))  # the same key: moving
            assert isinstance(track.motion, Stationary)
            held = track.motion.world_pose
            keys = {f: held for f in {track.first_frame, track.last_frame, *judged} if f != frame}
            self.editor.make_moving(track_id, {**keys, frame: pose})
            return self.editor.track(track_id)
        if self.mode == "sensor":
            self.sensor_keys.setdefault(track_id, {})[frame] = pose
            return self.refill(track_id)
        return self.editor.set_keyframe(track_id, frame, pose)

    def refill(self, track_id: str) -> Track:
        """``sensor`` mode: the tool writes the sensor-frame interpolation into every frame of the life."""
        track = self.editor.track(track_id)
        keys = {f: p for f, p in self.sensor_keys.get(track_id, {}).items() if track.has_shape(f)}
        if not keys:
            return track
        frames = track.frames()
        poses = sensor_frame_poses(self.editor.scene, keys, frames)
        return self.editor.set_keyframes(track_id, dict(zip(frames, poses, strict=True)))

    def mark_absent(self, track_id: str, frame: int) -> Track:
        """The object is not in ``frame``: end the life there or cut the frame out (one key)."""
        self.ledger.charge("reject", self.owner.get(track_id))
        track = self.editor.track(track_id)
        if self.mode == "sensor":
            self.sensor_keys.get(track_id, {}).pop(frame, None)
        others = [f for f in track.frames() if f != frame]
        if not others:
            self.editor.delete_track(track_id)
            self.deleted.add(track_id)
            return track
        if frame == track.first_frame or frame == track.last_frame:
            # A life starts and ends where the object is seen: trim to the nearest frame with a shape.
            return self.set_life(track_id, others[0], others[-1])
        motion = track.motion
        if isinstance(motion, Keyframed) and frame in motion.keyframes:
            track = self.editor.delete_keyframe(track_id, frame)
        return self.editor.set_absent(track_id, [frame])

    def set_life(self, track_id: str, first: int, last: int) -> Track:
        track = self.editor.set_life(track_id, first, last)
        return self.refill(track_id) if self.mode == "sensor" else track

    def extend_to(self, track_id: str, frame: int) -> Track:
        """Bring the track's life to ``frame``. LabelPilot's extend puts a moving track's box there where
        its keyframes lead; today's tools hold the box of the nearest keyframe."""
        track = self.editor.track(track_id)
        if self.mode == "world" and self.keys and not track.first_frame <= frame <= track.last_frame:
            return self.editor.extend(track_id, frame)
        return self.set_life(track_id, min(track.first_frame, frame), max(track.last_frame, frame))

    # -- finding an object's life ------------------------------------------------------------------------
    def search_end(self, object_id: str, search: EndSearch) -> EndSearch:
        """Walk an end search (``guidance.end_search``, the editor's ``e``) to its close: each probe is
        opened (by key with LabelPilot's end search, else a jump) and looked at. Without LabelPilot's
        keys the person bisects from the start."""
        if not self.keys:
            search = dataclasses.replace(search, past_end=False)
        while (frame := probe(search)) is not None:
            self.open_frame(frame, object_id)
            search = narrow(search, frame, self.oracle.look_for(object_id, frame))
        return search

    def search_from(self, track_id: str, object_id: str, frame: int) -> None:
        """Search where the track's life really ends (starts) from ``frame``, where the object is gone,
        and set the life there in one edit."""
        track = self.editor.track(track_id)
        search = start_search(track, self.judged(track_id), frame)
        if search is None:
            raise ValueError(f"track {track_id} has no frame to search its end from")
        life = closed_life(track, self.search_end(object_id, search))
        if life != (track.first_frame, track.last_frame):
            self.set_life(track_id, *life)

    # -- checking an interpolated track ------------------------------------------------------------------
    def check_frame(self, track_id: str, frame: int) -> None:
        """Go to ``frame``, look at the track's shape and correct it (or cut it out) where needed.

        A shape found right is accepted as a keyframe (one key), so that later corrections elsewhere
        cannot move a box the annotator has already judged."""
        self.goto(frame, self.owner.get(track_id))
        verdict = self.inspect(track_id, frame)
        if not verdict.present:
            self.mark_absent(track_id, frame)
        elif not verdict.passes:
            self.fix(track_id, frame, verdict)
        else:
            self.keep(track_id, frame)

    def check_end(self, track_id: str, frame: int) -> None:
        """Look at a frame of a track where its life may end: its first or last frame, or a suggested
        keyframe beyond every frame where the object was seen so far. Where the object is not there,
        the life starts (ends) between this frame and the nearest frame it was seen at: the end search
        from here (``guidance.end_search``, the editor's ``e``) finds where and sets the life in one
        edit. Where it is not there between frames it was seen at, it is hidden: the frame is cut out."""
        object_id = self.owner.get(track_id)
        self.goto(frame, object_id)
        verdict = self.inspect(track_id, frame)
        if verdict.present:
            self.fix(track_id, frame, verdict) if not verdict.passes else self.keep(track_id, frame)
            return
        track = self.editor.track(track_id)
        seen = seen_frames(track, self.judged(track_id))
        hidden = any(f < frame for f in seen) and any(f > frame for f in seen)
        if object_id is None or not seen or hidden:
            self.mark_absent(track_id, frame)
            return
        self.ledger.charge("reject", object_id)  # e: the object is gone here
        self.search_from(track_id, object_id, frame)

    def accept_life(self, track_id: str, first: int, last: int, weak: set[int]) -> None:
        """Accept the tool's proposed life with one key (the editor continues a moving track the
        annotator keyed where its keyframes lead); its ends outside ``weak`` are taken as shown."""
        self.ledger.charge("accept", self.owner.get(track_id))
        self.editor.accept_life(track_id, first, last)
        self.accepted_ends[track_id] = {first, last} - weak

    def is_accepted_end(self, track_id: str, frame: int) -> bool:
        return frame in self.accepted_ends.get(track_id, set())

    def made_right(self, track_id: str) -> set[int]:
        """Frames of the track the annotator found right or corrected."""
        return self.passed.get(track_id, set()) | self.fixed.get(track_id, set())

    def keep(self, track_id: str, frame: int) -> None:
        """Accept the shape the track shows in ``frame`` as a keyframe (moving tracks only)."""
        track = self.editor.track(track_id)
        motion = track.motion
        if track.is_stationary or (isinstance(motion, Keyframed) and frame in motion.keyframes):
            return
        shape = shape_at(track, frame)
        assert shape is not None
        self.ledger.charge("accept", self.owner.get(track_id))
        if self.mode == "sensor":
            self.sensor_keys.setdefault(track_id, {})[frame] = shape.pose
        else:
            self.editor.set_keyframe(track_id, frame, shape.pose)

    def judged(self, track_id: str) -> Judged:
        """What the editor remembers the annotator judged of the track (``guidance.checks``)."""
        return Judged(
            frozenset(self.checked.get(track_id, set())),
            frozenset(self.passed.get(track_id, set())),
            frozenset(self.accepted_ends.get(track_id, set())),
        )

    def bisect(self, track_id: str, limits: CheckLimits) -> None:
        """Check a track by bisection between the frames already judged, with the check key
        (``guidance.checks.next_check``: first its ends, then the middle of each stretch that may not
        stay unseen), correcting where a look fails. Where looks keep failing the stretches between
        corrected frames keep getting looks, so the annotator looks closer. Without LabelPilot's keys the
        annotator follows the same rule with mouse jumps and without the detections' support. What stays
        unchecked is delivered as it is.
        """
        while track_id not in self.deleted:
            track = self.editor.track(track_id)
            supported = supported_frames(track) if self.keys else frozenset()
            check = next_check(track, self.judged(track_id), limits, supported)
            if check is None:
                return
            self.open_frame(check.frame, self.owner.get(track_id))
            if check.kind == "end":
                self.check_end(track_id, check.frame)
            else:
                self.check_frame(track_id, check.frame)
