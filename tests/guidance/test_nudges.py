"""Nudges on event streams as the services record them, on real KITTI tracking 0001 objects.

The person's work layer holds confirmed copies of real PointRCNN candidate tracks (built by
``build_candidates``); ground truth only picks which objects are parked and which move (the truth
rule of tests/automation/stationary_evaluation.py) and never enters the scene the nudges see.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labelpilot.automation.candidates import build_candidates
from labelpilot.automation.keyframes import suggest_for_track
from labelpilot.automation.measurement_view import measurement_views
from labelpilot.automation.stationary import classify_layer
from labelpilot.formats import read_scene
from labelpilot.geometry.pose_json import pose_to_json
from labelpilot.guidance.nudges import (
    NUDGE_SHOWN,
    NudgeSettings,
    TaskEvent,
    dense_run,
    event_frame,
    nudges,
    size_change,
)
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Keyframed, Provenance, Stationary, Track, TrackStatus
from tests.automation.stationary_evaluation import KITTI_MAX_DRIFT, matched_truth

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
# Effort model prices (shared/EFFORT_MODEL.md): next frame, inspect, go to next item, mark stationary.
NEXT_FRAME, INSPECT, NEXT_ITEM, MARK_STATIONARY = 0.20, 1.35, 0.20, 0.20


@dataclasses.dataclass(frozen=True)
class Kitti:
    scene: Scene
    candidates: AnnotationLayer
    truth_still: dict[str, bool]
    """Candidate id -> whether its ground-truth object is stationary (matched candidates only)."""


@pytest.fixture(scope="module")
def kitti(sample_dir: Path) -> Kitti:
    scene = read_scene("kitti-tracking", sample_dir / "kitti-tracking", "0001")
    candidates = build_candidates(scene, scene.layer("auto:pointrcnn"))
    return Kitti(scene, candidates, matched_truth(scene, candidates, KITTI_MAX_DRIFT))


def _cars(kitti: Kitti, *, parked: bool, min_frames: int = 20) -> list[Track]:
    return [
        t
        for t in kitti.candidates
        if kitti.truth_still.get(t.track_id) is parked and t.label == "Car" and len(t.frames()) >= min_frames
    ]


def _confirmed(track: Track, row_id: str) -> Track:
    """The work copy of a candidate after ``candidate_confirmed`` (the services give it a row id)."""
    return dataclasses.replace(
        track,
        track_id=row_id,
        status=TrackStatus.CONFIRMED,
        provenance=Provenance("candidate", "auto:pointrcnn"),
    )


def _work_scene(kitti: Kitti, tracks: list[Track]) -> Scene:
    """The drive with only a work layer: no ground truth, no auto layer."""
    source = kitti.scene
    return Scene(
        source.name, source.frames, source.lidar, source.cameras, {"work": AnnotationLayer("work", tracks)},
        source.source_format,
    )  # fmt: skip


def _track_json(track: Track) -> dict[str, Any]:
    motion = track.motion
    return {
        "id": int(track.track_id),
        "label": track.label,
        "size": [float(v) for v in track.size],
        "first_frame": track.first_frame,
        "last_frame": track.last_frame,
        "stationary": isinstance(motion, Stationary),
        "stationary_pose": pose_to_json(motion.world_pose) if isinstance(motion, Stationary) else None,
        "keyframes": {str(f): pose_to_json(p) for f, p in motion.keyframes.items()}
        if isinstance(motion, Keyframed)
        else {},
        "status": track.status.value,
    }


def _event(kind: str, track: Track, second: float, payload: dict[str, Any] | None = None) -> TaskEvent:
    return TaskEvent(kind, track.track_id, None, payload or {}, T0 + timedelta(seconds=second))


def _edit(kind: str, track: Track, second: float, **extra: Any) -> TaskEvent:
    """An edit event with the before/after track JSON that services.track_edits records."""
    state = _track_json(track)
    return _event(kind, track, second, {"before": state, "after": state, **extra})


def _keyed(track: Track, frames: list[int], start: float = 10.0) -> list[TaskEvent]:
    return [_edit("keyframe_set", track, start + 4.0 * i, frame=f) for i, f in enumerate(frames)]


def _consecutive(track: Track, count: int = 6) -> list[int]:
    return track.frames()[2 : 2 + count]


def test_keying_a_parked_car_frame_by_frame_nudges_toward_stationary(kitti: Kitti) -> None:
    car = _confirmed(_cars(kitti, parked=True)[0], "101")
    frames = _consecutive(car)
    events = [_event("candidate_confirmed", car, 0.0), *_keyed(car, frames)]
    found = nudges(events, _work_scene(kitti, [car]), "work")
    assert [n.kind for n in found] == ["make_stationary"]
    nudge = found[0]
    assert nudge.track_id == "101" and "s" in nudge.message
    assert nudge.action is not None
    assert (nudge.action.kind, nudge.action.key, nudge.action.track_id) == ("confirm_stationary", "s", "101")
    assert car.has_shape(nudge.action.frame)
    # Saves: stepping through the frames after the last edited one, minus one look and one key.
    ahead = sum(1 for f in car.frames() if f > frames[-1])
    expected = ahead * (NEXT_FRAME + INSPECT) - (NEXT_ITEM + INSPECT + MARK_STATIONARY)
    assert nudge.saves_seconds == pytest.approx(expected, abs=1e-3)
    assert nudge.action.saves_seconds == pytest.approx(expected, abs=1e-3)


def test_make_stationary_follows_the_classifier_on_every_long_car(kitti: Kitti) -> None:
    """Over every matched car candidate of 20+ frames: parked cars are nudged (as often as the
    stationary classifier calls them stationary with confidence 0.8), moving cars never."""
    verdicts = classify_layer(kitti.scene, kitti.candidates)
    parked, moving = _cars(kitti, parked=True), _cars(kitti, parked=False)
    assert len(parked) >= 20 and len(moving) >= 3
    work = [_confirmed(t, str(200 + i)) for i, t in enumerate(parked + moving)]
    scene = _work_scene(kitti, work)
    events = [e for t in work for e in _keyed(t, _consecutive(t))]
    kinds = {n.track_id: n.kind for n in nudges(events, scene, "work")}
    nudged_parked = [w.track_id for w in work[: len(parked)] if kinds.get(w.track_id) == "make_stationary"]
    confident = [
        str(200 + i)
        for i, t in enumerate(parked)
        if verdicts[t.track_id].stationary and verdicts[t.track_id].confidence >= 0.8
    ]
    # The work copy keeps the candidate's detections, so the nudge agrees with the layer's verdicts
    # up to the layer-wide noise floor that classify_layer adds.
    assert len(nudged_parked) / len(parked) >= 0.7, (len(nudged_parked), len(parked))
    assert len(set(nudged_parked) ^ set(confident)) <= 0.1 * len(parked)
    assert all(kinds.get(w.track_id) != "make_stationary" for w in work[len(parked) :])


def test_keying_a_moving_car_frame_by_frame_nudges_toward_keyframes(kitti: Kitti) -> None:
    car = _confirmed(_cars(kitti, parked=False)[0], "102")
    frames = _consecutive(car)
    events = [_event("candidate_confirmed", car, 0.0), *_keyed(car, frames)]
    found = nudges(events, _work_scene(kitti, [car]), "work")
    assert [n.kind for n in found] == ["use_keyframes"]
    action = found[0].action
    assert action is not None and action.kind == "confirm_moving" and action.key == "Enter"
    suggested = suggest_for_track(car)
    assert list(action.keyframes) == suggested
    assert len(suggested) < len(car.frames())
    assert sum(1 for f in suggested if frames[0] <= f <= frames[-1]) < len(frames)
    assert action.frame > frames[-1] or action.frame == suggested[-1]
    assert found[0].saves_seconds > 0


def test_no_keyframe_nudge_where_every_frame_needs_a_keyframe(kitti: Kitti) -> None:
    """Keying six frames in a row is the fast path when the trajectory needs a keyframe at each."""
    dense = None
    for candidate in kitti.candidates:
        if kitti.truth_still.get(candidate.track_id) is not False:
            continue
        keys = suggest_for_track(candidate)
        runs = [keys[i : i + 6] for i in range(len(keys) - 5) if keys[i + 5] - keys[i] == 5]
        if runs:
            dense = (candidate, runs[0])
            break
    assert dense is not None, "sequence 0001 has a moving object whose path needs six keyframes in a row"
    track = _confirmed(dense[0], "103")
    found = nudges(_keyed(track, dense[1]), _work_scene(kitti, [track]), "work")
    assert [n.kind for n in found if n.kind == "use_keyframes"] == []


def test_the_fast_path_gets_no_nudge(kitti: Kitti) -> None:
    parked = _confirmed(_cars(kitti, parked=True)[0], "104")
    verdict = classify_layer(kitti.scene, kitti.candidates)[_cars(kitti, parked=True)[0].track_id]
    assert verdict.world_pose is not None
    still = dataclasses.replace(parked, motion=Stationary(verdict.world_pose))
    moving = _confirmed(_cars(kitti, parked=False)[0], "105")
    events = [
        _event("candidate_confirmed", still, 0.0),
        _edit("track_made_stationary", still, 2.0),
        _edit("stationary_pose_set", still, 5.0),
        _event("candidate_confirmed", moving, 8.0),
        *_keyed(moving, suggest_for_track(moving), start=10.0),
    ]
    assert nudges(events, _work_scene(kitti, [still, moving]), "work") == []


def test_each_nudge_once_until_the_situation_changes(kitti: Kitti) -> None:
    car = _confirmed(_cars(kitti, parked=True)[0], "106")
    scene = _work_scene(kitti, [car])
    frames = car.frames()
    events = _keyed(car, frames[2:8])
    assert [n.kind for n in nudges(events, scene, "work")] == ["make_stationary"]
    events.append(_event(NUDGE_SHOWN, car, 40.0, {"kind": "make_stationary"}))
    events += _keyed(car, frames[8:12], start=45.0)
    assert nudges(events, scene, "work") == []
    # Made moving on purpose, then edited frame by frame again: a new situation, a new nudge.
    events.append(_edit("track_made_moving", car, 70.0))
    assert nudges(events, scene, "work") == []
    events += _keyed(car, frames[12:15], start=75.0)
    assert [n.kind for n in nudges(events, scene, "work")] == ["make_stationary"]


def test_only_recent_events_count(kitti: Kitti) -> None:
    car = _confirmed(_cars(kitti, parked=True)[0], "107")
    scene = _work_scene(kitti, [car])
    events = _keyed(car, _consecutive(car))
    later = _event("candidate_confirmed", dataclasses.replace(car, track_id="108"), 3600.0)
    assert nudges([*events, later], scene, "work") == []
    assert [
        n.kind for n in nudges([*events, later], scene, "work", settings=NudgeSettings(window_s=7200))
    ] == ["make_stationary"]


def test_resizing_far_from_the_measurement_view(kitti: Kitti) -> None:
    car = _confirmed(_cars(kitti, parked=False)[0], "109")
    scene = _work_scene(kitti, [car])
    view = measurement_views(scene, car)["length"]
    far = max(car.frames(), key=lambda f: abs(f - view.frame))
    assert abs(far - view.frame) > 5
    longer = dataclasses.replace(car, size=car.size + np.array([0.3, 0.0, 0.0]))
    before, after = _track_json(car), _track_json(longer)

    def resize(frame: int | None) -> TaskEvent:
        return TaskEvent("track_updated", "109", frame, {"before": before, "after": after}, T0)

    found = nudges([resize(far)], _work_scene(kitti, [longer]), "work")
    assert [n.kind for n in found] == ["go_to_measurement_view"]
    action = found[0].action
    assert action is not None
    assert (action.kind, action.key, action.frame, action.view) == ("measure", "m", view.frame, "side")
    assert nudges([resize(view.frame)], _work_scene(kitti, [longer]), "work") == []
    assert nudges([resize(None)], _work_scene(kitti, [longer]), "work") == []
    relabel = TaskEvent(
        "track_updated", "109", far, {"before": before, "after": {**before, "label": "Van"}}, T0
    )
    assert nudges([relabel], scene, "work") == []


def test_nudges_serialise_and_ignore_unknown_tracks(kitti: Kitti) -> None:
    car = _confirmed(_cars(kitti, parked=True)[0], "110")
    scene = _work_scene(kitti, [car])
    events = _keyed(car, _consecutive(car))
    found = nudges(events, scene, "work")
    assert found
    payload = json.loads(json.dumps([n.to_json() for n in found]))
    assert payload[0]["action"]["key"] == "s" and payload[0]["track_id"] == "110"
    stranger = [dataclasses.replace(e, track_id="999") for e in events]
    assert nudges(stranger, scene, "work") == []
    assert nudges(events, scene, "another_layer") == []
    assert nudges([], scene, "work") == []


def test_event_helpers() -> None:
    assert dense_run([3, 4, 5, 6, 7], 5, 8) == [3, 4, 5, 6, 7]
    assert dense_run([1, 3, 5, 7, 9], 5, 8) == []
    assert dense_run([1, 2, 3, 4, 5, 6, 20, 21], 5, 8) == [1, 2, 3, 4, 5, 6]
    assert dense_run([5, 5, 5, 5, 5], 5, 8) == []
    keyed = TaskEvent("keyframe_set", "1", None, {"frame": 12}, T0)
    assert event_frame(keyed) == 12
    assert event_frame(dataclasses.replace(keyed, frame=3)) == 3
    assert event_frame(dataclasses.replace(keyed, payload={})) is None
    grow = TaskEvent(
        "track_updated", "1", 4, {"before": {"size": [4, 2, 1.5]}, "after": {"size": [4, 2.2, 1.6]}}, T0
    )
    assert size_change(grow) == ("width", "height")
    assert size_change(dataclasses.replace(grow, payload={"before": None, "after": {}})) == ()
    assert size_change(dataclasses.replace(grow, kind="keyframe_set")) == ()
