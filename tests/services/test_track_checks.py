"""The check key on a stored real track (KITTI tracking 0001), SQLite and PostgreSQL.

A PointRCNN candidate confirmed at its suggested keyframes is walked as the editor walks it: the
expected frames come from the rule's inputs (the track read back, the scene's frame period from the
KITTI timestamps as the format reader gives them, the track's own detections), never from constants.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.automation.keyframes import suggest_for_track
from labelpilot.guidance.checks import DEFAULT_LIMIT_SECONDS, CheckLimits, supported_frames
from labelpilot.services import track_edits
from labelpilot.services.codec import StoredKeyframe, track_from_rows
from labelpilot.services.errors import InvalidError, NotFoundError
from labelpilot.services.scene_browse import scene_frame_period_s
from labelpilot.services.track_checks import NO_FRAME_TO_SEARCH_FROM, end_search_step, next_track_check
from labelpilot.services.track_edit_store import load_track
from labelpilot.store.tables import LayerRow, TrackRow
from labelpilot.tracks import Track
from tests.services.automation_world import (
    DETECTIONS,
    World,
    kitti_file_scene,
    make_autolabelled_world,
)

CANDIDATES = f"candidates:{DETECTIONS}"


@pytest.fixture
def world(db_factory: sessionmaker[Session], tmp_path: Path) -> World:
    return make_autolabelled_world(db_factory, tmp_path / "blobs")


def _stored(s: Session, track_id: int) -> Track:
    loaded = load_track(s, track_id)
    return track_from_rows(loaded.row, [StoredKeyframe(f, p) for f, p in sorted(loaded.keyframes.items())])


def _longest_moving_candidate(s: Session, world: World) -> Track:
    ids = s.scalars(
        select(TrackRow.id)
        .join(LayerRow, LayerRow.id == TrackRow.layer_id)
        .where(LayerRow.scene_id == world.scene_id, LayerRow.name == CANDIDATES)
    ).all()
    moving = [t for t in (_stored(s, i) for i in ids) if not t.is_stationary]
    return max(moving, key=lambda t: (len(t.frames()), t.track_id))


def _confirmed(db_factory: sessionmaker[Session], world: World) -> Track:
    """The longest moving candidate, confirmed by ann at its suggested keyframes, as stored."""
    with db_factory.begin() as s:
        candidate = _longest_moving_candidate(s, world)
        keyframes = suggest_for_track(candidate)
        version = s.get_one(TrackRow, int(candidate.track_id)).version  # autolabel's pose move counts one
        result = track_edits.confirm_candidate(
            s,
            world.team.ann,
            int(candidate.track_id),
            version,
            keyframes=list(keyframes),
            task_id=world.task_id,
        )
        return _stored(s, int(result.track["id"]))


def _period_s() -> float:
    """From the KITTI files' own timestamps (the reader's scene, not the store)."""
    stamps = np.array([f.timestamp_us for f in kitti_file_scene().frames], dtype=np.float64)
    return float(np.median(np.diff(stamps))) / 1e6


def _limits() -> CheckLimits:
    return CheckLimits.from_seconds(*DEFAULT_LIMIT_SECONDS, _period_s())


def _ask(
    db_factory: sessionmaker[Session],
    world: World,
    track: Track,
    looked: Iterable[int] = (),
    right: Iterable[int] = (),
    accepted: Iterable[int] = (),
) -> dict[str, Any]:
    with db_factory.begin() as s:
        return next_track_check(
            s,
            world.team.ann,
            int(track.track_id),
            looked=sorted(set(looked)),
            right=sorted(set(right)),
            accepted_ends=sorted(set(accepted)),
            task_id=world.task_id,
        )


def test_a_confirmed_candidate_is_walked_ends_first_then_its_long_stretches(
    db_factory: sessionmaker[Session], world: World
) -> None:
    track = _confirmed(db_factory, world)
    first, last = track.first_frame, track.last_frame
    limits = _limits()
    assert limits.max_moving < limits.max_supported  # what the detections' support buys
    with db_factory.begin() as s:
        assert scene_frame_period_s(s, world.scene_id) == pytest.approx(_period_s())

    nothing = _ask(db_factory, world, track)
    assert (nothing["frame"], nothing["kind"]) == (first, "end")
    assert "first" in nothing["reason"]
    supported = set(nothing["supported_frames"])
    assert supported and supported == set(supported_frames(track))
    assert supported <= set(track.frames())

    after_first = _ask(db_factory, world, track, looked=[first], right=[first])
    assert (after_first["frame"], after_first["kind"]) == (last, "end")
    # An end accepted from the proposed life is not opened either.
    assert _ask(db_factory, world, track, looked=[first], accepted=[last])["kind"] == "stretch"

    # Both ends judged right: the middle of the first stretch longer than the limit that applies.
    ends = _ask(db_factory, world, track, looked=[first, last], right=[first, last])
    bounds = sorted({first, last} | set(track.absent_frames))
    expected = None
    for a, b in itertools.pairwise(bounds):
        inner = range(a + 1, b)
        limit = limits.max_supported if all(f in supported for f in inner) else limits.max_moving
        if len(inner) > limit:
            expected = ((a + b) // 2, len(inner), limit)
            break
    assert expected is not None
    assert (ends["frame"], ends["kind"]) == (expected[0], "stretch")
    assert f"{expected[1]} frames unseen" in ends["reason"] and f"at most {expected[2]}" in ends["reason"]

    # Both bounds corrected (looked, never right): the stretch between them is opened even when short.
    short = _ask(
        db_factory, world, track, looked=[first, first + 2, *range(first + 2, last + 1)], right=[last]
    )
    assert (short["frame"], short["kind"]) == (first + 1, "stretch")
    assert "both corrected" in short["reason"]

    # Every frame judged right: the track is checked.
    everything = list(range(first, last + 1))
    done = _ask(db_factory, world, track, looked=everything, right=everything)
    assert (done["frame"], done["kind"]) == (None, None)
    assert done["reason"]


def _runs(frames: set[int]) -> list[range]:
    """Runs of consecutive frames, ascending."""
    runs: list[range] = []
    for _, group in itertools.groupby(enumerate(sorted(frames)), key=lambda p: p[1] - p[0]):
        members = [f for _, f in group]
        runs.append(range(members[0], members[-1] + 1))
    return runs


def test_where_its_detections_agree_a_stretch_may_stay_unseen_longer(
    db_factory: sessionmaker[Session], world: World
) -> None:
    track = _confirmed(db_factory, world)
    limits = _limits()
    supported = set(_ask(db_factory, world, track)["supported_frames"])
    life = set(range(track.first_frame + 1, track.last_frame))
    # A stretch of supported frames longer than the moving limit, not longer than the supported one.
    run = max(_runs(supported & life), key=len)
    length = min(len(run), limits.max_supported)
    assert length > limits.max_moving, "the confirmed candidate has no long run of agreeing detections"
    unseen = range(run.start, run.start + length)
    judged = sorted(set(range(track.first_frame, track.last_frame + 1)) - set(unseen))
    assert _ask(db_factory, world, track, looked=judged, right=judged)["frame"] is None

    # The same length where some frame is not supported: opened at its middle.
    unsupported = sorted(set(track.frames()) - supported)
    window = next(
        range(start, start + length)
        for start in range(track.first_frame + 1, track.last_frame - length + 1)
        if any(f in unsupported for f in range(start, start + length))
    )
    judged = sorted(set(range(track.first_frame, track.last_frame + 1)) - set(window))
    answer = _ask(db_factory, world, track, looked=judged, right=judged)
    assert (answer["frame"], answer["kind"]) == ((window.start - 1 + window.stop) // 2, "stretch")
    assert f"at most {limits.max_moving}" in answer["reason"]


def _search(
    db_factory: sessionmaker[Session],
    world: World,
    track: Track,
    frame: Any,
    *,
    search: Any = None,
    here: Any = None,
    looked: Iterable[int] = (),
    right: Iterable[int] = (),
) -> dict[str, Any]:
    with db_factory.begin() as s:
        return end_search_step(
            s,
            world.team.ann,
            int(track.track_id),
            frame=frame,
            looked=sorted(set(looked)),
            right=sorted(set(right)),
            search=search,
            here=here,
            task_id=world.task_id,
        )


def _answer_to_the_close(
    db_factory: sessionmaker[Session], world: World, track: Track, step: dict[str, Any], seen: range
) -> tuple[dict[str, Any], int]:
    """Answer each frame the search opens as a person who sees the object in ``seen`` frames only: the
    last step, and how many answers it took."""
    answers = 0
    while step["frame"] is not None:
        assert step["life"] is None and answers < 64
        frame = step["frame"]
        step = _search(db_factory, world, track, frame, search=step["search"], here=frame in seen)
        answers += 1
    return step, answers


def _frame_count_and_version(db_factory: sessionmaker[Session], track: Track) -> tuple[int, int]:
    with db_factory.begin() as s:
        loaded = load_track(s, int(track.track_id))
        return loaded.scene.frame_count, loaded.row.version


def test_an_end_search_from_outside_the_life_walks_to_where_the_object_starts(
    db_factory: sessionmaker[Session], world: World
) -> None:
    track = _confirmed(db_factory, world)
    first, last = track.first_frame, track.last_frame
    frame_count, version = _frame_count_and_version(db_factory, track)
    assert first > 2, "the confirmed candidate lives from the scene's first frames"
    true_first = first - first // 3

    start = _search(db_factory, world, track, 0, looked=[0])
    # The nearest end and this frame; before a candidate's first frame (not a person's drawing), the
    # frame just before it is opened first.
    assert track.provenance.kind == "candidate"
    assert start == {
        "search": {"present": first, "absent": 0, "past_end": True},
        "frame": first - 1,
        "life": None,
        "finds_start": True,
    }
    done, answers = _answer_to_the_close(db_factory, world, track, start, range(true_first, last + 1))
    assert done["life"] == [true_first, last] and done["finds_start"] is True
    assert done["search"] == {"present": true_first, "absent": true_first - 1, "past_end": False}
    assert answers <= math.ceil(math.log2(first)) + 1
    assert _frame_count_and_version(db_factory, track) == (frame_count, version)  # nothing written


def test_an_end_search_inside_the_life_goes_toward_the_frames_seen(
    db_factory: sessionmaker[Session], world: World
) -> None:
    track = _confirmed(db_factory, world)
    first, last = track.first_frame, track.last_frame
    # Seen (looked at and kept) near the end, gone at a frame past the middle: the life starts later,
    # between the two, whatever keyframes lie toward the middle.
    seen = max(f for f in track.frames() if f < last - 1)
    gone = first + 2 * (last - first) // 3
    assert (first + last) / 2 < gone < seen - 2
    true_first = gone + (seen - gone) // 2 + 1
    start = _search(db_factory, world, track, gone, looked=[seen, gone], right=[seen])
    assert start["search"] == {"present": seen, "absent": gone, "past_end": False}
    assert (start["frame"], start["finds_start"]) == ((seen + gone) // 2, True)
    done, _ = _answer_to_the_close(db_factory, world, track, start, range(true_first, last + 1))
    assert (done["life"], done["finds_start"]) == ([true_first, last], True)


def test_what_the_end_search_refuses(db_factory: sessionmaker[Session], world: World) -> None:
    track = _confirmed(db_factory, world)
    first = track.first_frame
    frame_count, version = _frame_count_and_version(db_factory, track)
    search = _search(db_factory, world, track, 0)["search"]
    assert search == {"present": first, "absent": 0, "past_end": True}
    inside = first - 1
    bad: list[tuple[str, Any, Any, Any]] = [  # field, frame, search, here
        ("frame", 0, search, True),  # the gone side is not inside the bracket
        ("frame", first + 1, search, False),
        ("frame", frame_count, None, None),
        ("frame", "3", None, None),
        ("search", inside, "0-10", True),
        ("search.present", inside, {**search, "present": True}, True),
        ("search.present", inside, {**search, "present": -1}, True),
        ("search.absent", inside, {**search, "absent": frame_count}, True),
        ("search.absent", inside, {**search, "absent": first}, True),
        ("search.past_end", inside, {"present": first, "absent": 0}, True),
        ("here", inside, search, None),
        ("here", inside, search, 1),
        ("here", inside, None, True),
        # A bracket that no longer fits the life (it was edited meanwhile): the end before the start.
        ("search", first - 2, {"present": first - 3, "absent": first - 1, "past_end": False}, True),
    ]
    for field, frame, sent, here in bad:
        with pytest.raises(InvalidError) as refused:
            _search(db_factory, world, track, frame, search=sent, here=here)
        assert refused.value.field == field, (field, frame, sent, here, refused.value.message)
    with pytest.raises(InvalidError, match=f"frame {first + 1} is outside the search"):
        _search(db_factory, world, track, first + 1, search=search, here=True)
    # The judged frames are validated as for the check key.
    with pytest.raises(InvalidError) as refused:
        _search(db_factory, world, track, 0, looked=[0, frame_count])
    assert refused.value.field == "looked"

    # A stationary track at the middle of its life, with nothing seen: no frame to search from.
    with db_factory.begin() as s:
        result = track_edits.make_stationary(
            s, world.team.ann, int(track.track_id), version, None, task_id=world.task_id
        )
    stationary = _stored_by_id(db_factory, int(result.track["id"]))
    middle = (stationary.first_frame + stationary.last_frame) // 2
    with pytest.raises(InvalidError, match=NO_FRAME_TO_SEARCH_FROM) as refused:
        _search(db_factory, world, stationary, middle)
    assert refused.value.field == "frame"


def _stored_by_id(db_factory: sessionmaker[Session], track_id: int) -> Track:
    with db_factory.begin() as s:
        return _stored(s, track_id)


def test_who_may_ask_and_what_is_refused(db_factory: sessionmaker[Session], world: World) -> None:
    track = _confirmed(db_factory, world)
    track_id, team = int(track.track_id), world.team
    with db_factory.begin() as s:
        frame_count = load_track(s, track_id).scene.frame_count
        for reader in (team.reviewer, team.coach, team.manager, team.admin):
            assert next_track_check(s, reader, track_id)["frame"] == track.first_frame
            assert end_search_step(s, reader, track_id, frame=0)["frame"] == track.first_frame - 1
        for hidden_from in (team.abe, team.outsider):
            with pytest.raises(NotFoundError):
                next_track_check(s, hidden_from, track_id)
            with pytest.raises(NotFoundError):
                end_search_step(s, hidden_from, track_id, frame=0)
        with pytest.raises(NotFoundError):
            next_track_check(s, team.ann, track_id + 100_000)
        with pytest.raises(NotFoundError):
            end_search_step(s, team.ann, track_id + 100_000, frame=0)
        bad: list[tuple[str, Any]] = [
            ("looked", [True]),
            ("looked", [1, 1]),
            ("right", [-1]),
            ("right", [frame_count]),
            ("accepted_ends", ["3"]),
            ("accepted_ends", 3),
            ("looked", list(range(frame_count + 1))),
        ]
        for field, value in bad:
            with pytest.raises(InvalidError) as refused:
                next_track_check(s, team.ann, track_id, **{field: value})
            assert refused.value.field == field and field in refused.value.message
    with db_factory.begin() as s:
        version = load_track(s, track_id).row.version
        track_edits.delete_track(s, team.ann, track_id, version, task_id=world.task_id)
    with db_factory.begin() as s, pytest.raises(NotFoundError):
        next_track_check(s, team.ann, track_id)
    with db_factory.begin() as s, pytest.raises(NotFoundError):
        end_search_step(s, team.ann, track_id, frame=0)
