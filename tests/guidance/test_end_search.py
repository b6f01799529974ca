"""The end search's rule (guidance.end_search) on small tracks cut from a real candidate: a PointRCNN
candidate of KITTI tracking 0001 detected in every frame from the scene's first, re-keyed at a few of
its frames and given a short life (``_track``), as a person's or a candidate's track would be.

The searches below are walked as a person answers them: here while the object is there (a true life
``first..last``), not here outside it."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from labelpilot.automation.candidates import build_candidates
from labelpilot.automation.keyframes import keyframed_track
from labelpilot.formats import read_scene
from labelpilot.guidance.checks import Judged
from labelpilot.guidance.end_search import (
    EndSearch,
    closed_life,
    narrow,
    probe,
    seen_frames,
    start_search,
)
from labelpilot.tracks import Provenance, Track, as_stationary

FRAMES = 44
"""Frames 0..43: the source candidate's life, every frame of it detected."""


@pytest.fixture(scope="module")
def source(sample_dir: Path) -> Track:
    scene = read_scene("kitti-tracking", sample_dir / "kitti-tracking", "0001")
    layer = build_candidates(scene, scene.layer("auto:pointrcnn"))
    every_frame = [
        t
        for t in layer
        if not t.is_stationary
        and t.first_frame == 0
        and t.last_frame >= FRAMES - 1
        and all(t.has_shape(f) for f in range(FRAMES))
    ]
    assert every_frame, "no candidate of KITTI 0001 is detected in each of its first frames"
    return every_frame[0]


def _track(
    source: Track,
    first: int,
    last: int,
    keys: Iterable[int],
    *,
    drawn: bool = False,
    absent: Iterable[int] = (),
    stationary: bool = False,
) -> Track:
    """The source candidate keyed at ``keys`` (its own boxes), living ``first..last``; a person's track
    when ``drawn``."""
    keyed = keyframed_track(source, sorted(keys))
    track = dataclasses.replace(
        keyed,
        first_frame=first,
        last_frame=last,
        absent_frames=frozenset(absent),
        provenance=Provenance("manual") if drawn else keyed.provenance,
    )
    return as_stationary(track) if stationary else track


def _judged(looked: Iterable[int] = (), right: Iterable[int] = ()) -> Judged:
    return Judged(frozenset(looked), frozenset(right))


def _walk(track: Track, search: EndSearch, here: Callable[[int], bool]) -> tuple[tuple[int, int], list[int]]:
    """Answer every probe until the bracket closes: (the life it gives, the frames opened)."""
    opened: list[int] = []
    while (frame := probe(search)) is not None:
        assert frame not in opened and len(opened) < FRAMES
        opened.append(frame)
        search = narrow(search, frame, here(frame))
    assert search.closed
    return closed_life(track, search), opened


def _until(last: int) -> Callable[[int], bool]:
    """The person's answers when the object is there up to ``last``."""
    return lambda frame: frame <= last


def _from(first: int) -> Callable[[int], bool]:
    """The person's answers when the object is there from ``first`` on."""
    return lambda frame: frame >= first


def test_after_the_end_the_first_probe_is_just_past_it_then_middles(source: Track) -> None:
    for drawn in (False, True):
        track = _track(source, 10, 30, [10, 30], drawn=drawn)
        search = start_search(track, Judged(), 40)
        assert search == EndSearch(30, 40, past_end=True)
        assert not search.finds_start and probe(search) == 31
        search = narrow(search, 31, here=True)
        assert search == EndSearch(31, 40) and probe(search) == 35
        search = narrow(search, 35, here=False)
        assert search == EndSearch(31, 35) and probe(search) == 33


def test_before_a_drawn_track_the_search_bisects_from_the_start(source: Track) -> None:
    track = _track(source, 10, 30, [10, 30], drawn=True)
    search = start_search(track, Judged(), 2)
    assert search == EndSearch(10, 2, past_end=False)
    assert search.finds_start and probe(search) == 6


def test_before_a_candidate_the_first_probe_is_just_before_its_first_frame(source: Track) -> None:
    track = _track(source, 10, 30, [10, 30])
    assert track.provenance.kind == "candidate"
    search = start_search(track, Judged(), 2)
    assert search == EndSearch(10, 2, past_end=True)
    assert search.finds_start and probe(search) == 9
    # Just before the first frame: nothing to open, the life already starts there.
    at_once = start_search(track, Judged(), 9)
    assert at_once is not None and probe(at_once) is None and closed_life(track, at_once) == (10, 30)


def test_inside_with_seen_frames_only_after_the_search_goes_toward_them(source: Track) -> None:
    # Gone at 22, past the middle (20) of 10..30, but the object was seen at 25 and 28 (a life that
    # starts later than its first detection): searched toward 25, not toward the keyframe 10.
    track = _track(source, 10, 30, [10, 30])
    judged = _judged(looked=[25, 28], right=[28])
    assert seen_frames(track, judged) == {25, 28}
    search = start_search(track, judged, 22)
    assert search == EndSearch(25, 22) and search.finds_start and probe(search) == 23
    # Seen only before a frame in the first half: searched toward them too (the end is earlier).
    search = start_search(track, _judged(right=[11, 12]), 14)
    assert search == EndSearch(12, 14) and not search.finds_start and probe(search) == 13


def test_inside_with_seen_frames_on_both_sides_the_search_goes_toward_the_middle(source: Track) -> None:
    track = _track(source, 10, 30, [10, 30])
    judged = _judged(looked=[12, 26], right=[12])
    assert start_search(track, judged, 15) == EndSearch(26, 15)  # the middle is later
    assert start_search(track, judged, 24) == EndSearch(12, 24)  # the middle is earlier


def test_inside_with_nothing_seen_the_keyframe_nearest_the_middle_else_the_middle(source: Track) -> None:
    keyed = _track(source, 10, 30, [10, 18, 24, 30])
    assert start_search(keyed, Judged(), 13) == EndSearch(18, 13)
    assert start_search(keyed, Judged(), 27) == EndSearch(18, 27)
    assert start_search(_track(source, 10, 30, [10, 16, 24, 30]), Judged(), 12) == EndSearch(16, 12)
    # No keyframe on the middle's side: the middle frame.
    assert start_search(_track(source, 10, 30, [10, 12]), Judged(), 13) == EndSearch(20, 13)
    stationary = _track(source, 10, 30, [10, 30], stationary=True)
    assert start_search(stationary, Judged(), 27) == EndSearch(20, 27)
    # Frames looked at outside the life are not seen there.
    assert start_search(keyed, _judged(looked=[5, 35], right=[5]), 13) == EndSearch(18, 13)


def test_absent_frames_are_never_where_the_object_is(source: Track) -> None:
    track = _track(source, 10, 30, [10, 30], absent=[20, 25])
    judged = _judged(looked=[25], right=[25])
    assert seen_frames(track, judged) == set()
    # Nothing seen, and the middle (20) has no box: the keyframe 30 then.
    assert start_search(track, judged, 13) == EndSearch(30, 13)
    stationary = _track(source, 10, 30, [10, 30], absent=[20], stationary=True)
    assert start_search(stationary, Judged(), 13) is None


def test_narrow_refuses_a_frame_outside_the_bracket(source: Track) -> None:
    search = EndSearch(10, 20)
    for frame in (5, 10, 20, 25):
        with pytest.raises(ValueError, match=f"frame {frame} is outside the search"):
            narrow(search, frame, here=True)
    with pytest.raises(ValueError, match="outside the search"):
        narrow(EndSearch(10, 11), 10, here=False)


def test_closed_life_sets_the_start_or_the_end(source: Track) -> None:
    track = _track(source, 10, 30, [10, 30])
    assert closed_life(track, EndSearch(15, 14)) == (15, 30)
    assert closed_life(track, EndSearch(25, 26)) == (10, 25)
    assert EndSearch(15, 14).closed and not EndSearch(15, 13).closed


def test_every_walk_finds_the_true_boundary(source: Track) -> None:
    last_scene_frame = FRAMES - 1
    track = _track(source, 10, 30, [10, 30])
    drawn = _track(source, 10, 30, [10, 30], drawn=True)

    def bound(frames: int) -> int:
        """At most this many looks: one per halving, and the first look past the end."""
        return math.ceil(math.log2(frames)) + 1

    for true_last in range(30, last_scene_frame):  # after the end, searched from the scene's last frame
        search = start_search(track, Judged(), last_scene_frame)
        assert search is not None
        life, opened = _walk(track, search, _until(true_last))
        assert life == (10, true_last) and len(opened) <= bound(last_scene_frame - 30)
    for candidate in (track, drawn):  # before the start, searched from frame 0
        for true_first in range(1, 11):
            search = start_search(candidate, Judged(), 0)
            assert search is not None
            life, opened = _walk(candidate, search, _from(true_first))
            assert life == (true_first, 30) and len(opened) <= bound(10)
    for true_last in range(12, 25):  # inside: seen at 12, gone at 25
        search = start_search(track, _judged(right=[12]), 25)
        assert search == EndSearch(12, 25)
        life, _ = _walk(track, search, _until(true_last))
        assert life == (10, true_last)
    for true_first in range(15, 29):  # inside: a life that starts later, seen at 28, gone at 14
        search = start_search(track, _judged(looked=[28]), 14)
        assert search == EndSearch(28, 14)
        life, _ = _walk(track, search, _from(true_first))
        assert life == (true_first, 30)
