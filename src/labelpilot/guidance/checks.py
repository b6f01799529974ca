"""The check key: which frame of a track a person looks at next, so that no stretch stays unseen too long.

A person checks a track by bisection between the frames already judged (EFFORT_MODEL: inspect by
bisection between keyframes). The editor remembers, per track, what the person judged (``Judged``):
the frames looked at, the frames where the box was right as shown (looked at and left unedited), and
the ends taken from the tool's proposed life without a look. One key (``c``) opens ``next_check``:

1. an end of the life neither looked at nor accepted, the first end first;
2. else the middle of the first stretch between two judged frames (in frame order) that may not stay
   unseen: longer than its limit, or with no end found right as shown (both ends were corrected, so
   the interpolation between them is unproven);
3. else nothing: the track is checked.

A stretch may stay unseen for ``max_stationary`` frames on a stationary track (one world box: it can
only go wrong through the ego poses), ``max_supported`` frames where the track's own detections agree
closely with its box at every frame inside the stretch (``supported_frames``), ``max_moving`` otherwise.
Frames where the track is marked absent count as judged: there is nothing to look at.

The same function serves the editor (``POST /api/tracks/{id}/next-check``) and the effort benchmark's
annotator, so the benchmark prices exactly the path the product offers.
"""

from __future__ import annotations

import itertools
from collections.abc import Set
from dataclasses import dataclass
from typing import Literal

from labelpilot.automation.auto_evidence import auto_evidence, disagreement
from labelpilot.tracks import Track, world_shapes

CheckKind = Literal["end", "stretch"]

SUPPORT_SHARE = 0.5
"""A frame is supported when its own detection lies within this share of the class's tolerances
(``auto_evidence.TOLERANCES``: 0.4 m and 10 degrees for a car) of the track's box."""


@dataclass(frozen=True)
class CheckLimits:
    """How many frames in a row may stay unseen (the module doc)."""

    max_moving: int
    max_stationary: int
    max_supported: int

    @classmethod
    def from_seconds(
        cls, moving_s: float, stationary_s: float, supported_s: float, frame_period_s: float
    ) -> CheckLimits:
        def frames(seconds: float) -> int:
            # A stretch of N unseen frames lies between two looks N + 1 frames apart.
            return max(0, round(seconds / frame_period_s) - 1)

        return cls(frames(moving_s), frames(stationary_s), frames(supported_s))


DEFAULT_LIMIT_SECONDS = (1.0, 3.0, 3.0)
"""(moving, stationary, supported) seconds of scene a stretch may stay unseen."""


@dataclass(frozen=True)
class Judged:
    """What a person has judged of one track (the editor's memory of the session)."""

    looked: frozenset[int] = frozenset()
    right: frozenset[int] = frozenset()
    accepted_ends: frozenset[int] = frozenset()


@dataclass(frozen=True)
class NextCheck:
    frame: int
    kind: CheckKind
    reason: str


def supported_frames(track: Track, share: float = SUPPORT_SHARE) -> frozenset[int]:
    """Frames where the track's own detection (``det_center``/``det_yaw``, kept from its candidate)
    agrees with its box within ``share`` of the class tolerances (median-filtered, as flags do)."""
    if track.is_stationary or not track.frames():
        return frozenset()
    shapes = world_shapes(track)
    evidence = auto_evidence(track, shapes, [])
    if not len(evidence.frames):
        return frozenset()
    found = disagreement(track, shapes, evidence)
    close = found.excess <= share
    return frozenset(int(f) for f in found.frames[close].tolist())


def _limit(track: Track, inner: range, supported: Set[int], limits: CheckLimits) -> tuple[int, str]:
    if track.is_stationary:
        return limits.max_stationary, "stationary"
    if all(f in supported for f in inner):
        return limits.max_supported, "its detections agree"
    return limits.max_moving, "moving"


def next_check(
    track: Track, judged: Judged, limits: CheckLimits, supported: Set[int] = frozenset()
) -> NextCheck | None:
    """The frame of ``track`` to look at next, or None when every stretch may stay as it is."""
    if not track.frames():
        return None
    first, last = track.first_frame, track.last_frame
    for end, name in ((first, "first"), (last, "last")):
        if end not in judged.looked and end not in judged.accepted_ends:
            return NextCheck(end, "end", f"the {name} frame has not been looked at")
    absent = set(range(first, last + 1)) - set(track.frames())
    bounds = sorted(f for f in judged.looked | judged.accepted_ends | absent if first <= f <= last)
    for a, b in itertools.pairwise(bounds):
        inner = range(a + 1, b)
        if not inner:
            continue
        limit, why = _limit(track, inner, supported, limits)
        if len(inner) > limit:
            return NextCheck((a + b) // 2, "stretch", f"{len(inner)} frames unseen ({why}: at most {limit})")
        if not ({a, b} & judged.right):
            return NextCheck((a + b) // 2, "stretch", f"frames {a} and {b} were both corrected")
    return None
