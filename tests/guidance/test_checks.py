"""The check key's rule (guidance.checks) on real candidates: PointRCNN detections of KITTI tracking 0001
associated into tracks, keyed at their first and last frames as a confirmation with keyframes would.

Every walk below judges each opened frame right, as a person who finds the box right would, and checks
what the rule promises: ends first, no stretch left longer than its limit, every opened frame new, and
that agreeing detections let a stretch stay unseen longer (and only where they agree)."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest

from labelpilot.automation.candidates import build_candidates
from labelpilot.automation.keyframes import keyframed_track
from labelpilot.formats import read_scene
from labelpilot.geometry import Pose
from labelpilot.guidance.checks import CheckLimits, Judged, next_check, supported_frames
from labelpilot.tracks import Keyframed, Track, as_stationary

LIMITS = CheckLimits.from_seconds(1.0, 3.0, 3.0, 0.1)


@pytest.fixture(scope="module")
def moving(sample_dir: Path) -> list[Track]:
    """Candidates of at least 40 frames, keyed at their ends (detections kept per frame)."""
    scene = read_scene("kitti-tracking", sample_dir / "kitti-tracking", "0001")
    layer = build_candidates(scene, scene.layer("auto:pointrcnn"))
    long = [t for t in layer if len(t.frames()) >= 40 and not t.is_stationary]
    assert len(long) >= 5
    return [keyframed_track(t, [t.first_frame, t.last_frame]) for t in long]


def walk(track: Track, supported: frozenset[int]) -> list[int]:
    """Frames the check key opens, each judged right, until the track is checked."""
    judged = Judged()
    opened: list[int] = []
    while (check := next_check(track, judged, LIMITS, supported)) is not None:
        assert check.frame not in judged.looked, "the key opened a frame already judged"
        opened.append(check.frame)
        judged = Judged(judged.looked | {check.frame}, judged.right | {check.frame})
        assert len(opened) <= len(track.frames())
    return opened


def test_ends_come_first_then_no_stretch_stays_unseen_too_long(moving: list[Track]) -> None:
    for track in moving:
        opened = walk(track, frozenset())
        assert opened[:2] == [track.first_frame, track.last_frame]
        for a, b in itertools.pairwise(sorted(opened)):
            assert b - a - 1 <= LIMITS.max_moving
        # Bisection: about one look per limit's worth of frames, not one per frame.
        assert len(opened) <= 2 * len(track.frames()) / (LIMITS.max_moving + 1) + 2


def test_agreeing_detections_let_stretches_stay_unseen_longer(moving: list[Track]) -> None:
    fewer = 0
    for track in moving:
        supported = supported_frames(track)
        assert supported <= set(track.frames())
        with_support = walk(track, supported)
        for a, b in itertools.pairwise(sorted(with_support)):
            inner = range(a + 1, b)
            limit = LIMITS.max_supported if all(f in supported for f in inner) else LIMITS.max_moving
            assert len(inner) <= limit
        fewer += len(with_support) < len(walk(track, frozenset()))
    assert fewer >= 1


def test_support_is_where_the_detections_agree(moving: list[Track]) -> None:
    track = max(moving, key=lambda t: len(supported_frames(t)))
    assert len(supported_frames(track)) >= len(track.frames()) // 2
    # The same track with every keyframe a metre to the side: its detections no longer agree.
    assert isinstance(track.motion, Keyframed)
    side = {
        f: Pose.from_yaw(
            p.yaw, p.translation + np.array([np.cos(p.yaw + np.pi / 2), np.sin(p.yaw + np.pi / 2), 0.0])
        )
        for f, p in track.motion.keyframes.items()
    }
    shifted = dataclasses.replace(track, motion=Keyframed(side))
    assert len(supported_frames(shifted)) < len(supported_frames(track)) // 4
    # A stationary box takes no support from detections: its limit is its own.
    assert supported_frames(as_stationary(track)) == frozenset()


def test_a_short_stretch_between_two_corrected_frames_gets_a_look(moving: list[Track]) -> None:
    track = moving[0]
    first, last = track.first_frame, track.last_frame
    a, b = first + 4, first + 8
    right = frozenset({first, last})
    judged = Judged(frozenset({first, a, b, last}) | frozenset(range(b, last + 1)), right)
    check = next_check(track, judged, LIMITS, frozenset())
    # first..a (3 unseen, first right) may stay; a..b were both corrected: its middle gets a look.
    assert check is not None and check.kind == "stretch" and check.frame == (a + b) // 2
