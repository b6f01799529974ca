"""The guidance memo on real data: a queue computed with it is the queue computed without it.

KITTI tracking 0001 (data/sample: PointRCNN candidates, no lidar) with a work layer of confirmed tracks
gives every per-track computation the memo keeps (candidate actions, ``measure``, ``accept_life`` and
``check_end``); the KITTI odometry demo drive (30 real sweeps) gives them with lidar.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from labelpilot.automation.candidates import build_candidates
from labelpilot.automation.sweep_access import SceneSweeps
from labelpilot.formats import read_scene
from labelpilot.geometry import Pose
from labelpilot.guidance.actions import Action
from labelpilot.guidance.engine import next_best_actions
from labelpilot.guidance.life_actions import life_actions
from labelpilot.guidance.memo import GuidanceMemo, scene_fingerprint, track_fingerprint
from labelpilot.guidance.review_actions import measure_actions
from labelpilot.scenes import Frame, Scene
from labelpilot.tracks import AnnotationLayer, Keyframed, Provenance, Stationary, Track, TrackStatus
from tests.guidance.test_engine import _as_confirmed, _confirmed_copy

DETECTIONS = "auto:pointrcnn"
CANDIDATES = "candidates:auto:pointrcnn"
CONFIRMED = 8
"""Candidates confirmed into the work layer (one of them as if a person drew it)."""


@dataclasses.dataclass(frozen=True)
class Base:
    """KITTI 0001 with built candidates and a work layer; ``scene()`` gives a fresh scene of them."""

    file_scene: Scene
    candidates: list[Track]
    work: list[Track]
    measured: frozenset[str]

    def scene(self, candidates: list[Track] | None = None, frames: list[Frame] | None = None) -> Scene:
        file_scene = self.file_scene
        layers = {
            CANDIDATES: AnnotationLayer(
                CANDIDATES, list(self.candidates if candidates is None else candidates)
            ),
            "work": AnnotationLayer("work", list(self.work)),
        }
        return Scene(
            file_scene.name,
            file_scene.frames if frames is None else frames,
            file_scene.lidar,
            file_scene.cameras,
            layers,
        )


@pytest.fixture(scope="module")
def base(sample_dir: Path) -> Base:
    scene = read_scene("kitti-tracking", sample_dir / "kitti-tracking", "0001")
    candidates = build_candidates(scene, scene.layer(DETECTIONS)).tracks
    empty = Base(scene, candidates, [], frozenset())
    queue = next_best_actions(empty.scene(), "work", [CANDIDATES])
    confirms = [a for a in queue if a.kind.startswith("confirm")][:CONFIRMED]
    by_id = {t.track_id: t for t in candidates}
    work = [
        _confirmed_copy(_as_confirmed(by_id[a.track_id or ""], a), f"w{i}", CANDIDATES)
        for i, a in enumerate(confirms)
    ]
    drawn = next(i for i, t in enumerate(work) if t.is_stationary)
    work[drawn] = dataclasses.replace(work[drawn], provenance=Provenance("manual"), frame_attributes={})
    return Base(scene, candidates, work, frozenset({work[-1].track_id}))


def _queue(base: Base, scene: Scene, memo: GuidanceMemo | None) -> list[dict[str, object]]:
    actions = next_best_actions(scene, "work", [CANDIDATES], measured_track_ids=base.measured, memo=memo)
    return [a.to_json() for a in actions]


def test_queue_with_a_memo_is_the_queue_without_cold_and_warm(base: Base) -> None:
    uncached = _queue(base, base.scene(), None)
    kinds = {a["kind"] for a in uncached}
    assert {"confirm_stationary", "confirm_moving", "reject_false_positive", "measure"} <= kinds
    assert {"accept_life", "check_end"} & kinds
    memo = GuidanceMemo()
    assert _queue(base, base.scene(), memo) == uncached
    assert memo.hits == 0 and memo.misses == len(memo) > 0
    cold = memo.misses
    # A scene loaded afresh (new objects, same content) finds every entry.
    assert _queue(base, base.scene(), memo) == uncached
    assert memo.hits == cold and memo.misses == cold


def _relabelled(track: Track) -> Track:
    return dataclasses.replace(track, label="Van" if track.label == "Car" else "Car")


def _moved(track: Track) -> Track:
    assert isinstance(track.motion, Keyframed)
    keyframes = dict(track.motion.keyframes)
    frame = next(iter(keyframes))
    matrix = keyframes[frame].matrix.copy()
    matrix[:3, 3] += [0.4, -0.3, 0.0]
    keyframes[frame] = Pose(matrix)
    return dataclasses.replace(track, motion=Keyframed(keyframes))


@pytest.mark.parametrize("change", [_relabelled, _moved], ids=["label", "keyframe"])
def test_a_changed_candidate_is_recomputed_and_the_others_are_hits(
    base: Base, change: Callable[[Track], Track]
) -> None:
    memo = GuidanceMemo()
    before = _queue(base, base.scene(), memo)
    entries = memo.misses
    by_id = {a["track_id"]: a for a in before}
    index, target = next(
        (i, t)
        for i, t in enumerate(base.candidates)
        if t.track_id in by_id and by_id[t.track_id]["kind"] == "confirm_moving" and len(t.frames()) > 10
    )
    candidates = list(base.candidates)
    candidates[index] = change(target)
    scene = base.scene(candidates)
    misses = memo.misses
    warm = _queue(base, scene, memo)
    assert warm == _queue(base, scene, None)
    assert warm != before
    if change is _relabelled:
        # A label is not read by the stationary classifier: every other candidate keeps its verdict.
        assert memo.misses - misses == 1
        assert memo.hits == entries - 1
        (action,) = [a for a in warm if a["track_id"] == target.track_id]
        assert str(action["reason"]).startswith(candidates[index].label)
    else:
        # A moved box may move the layer's noise floor, and with it a few other verdicts.
        assert 1 <= memo.misses - misses <= 0.1 * entries
        assert memo.hits >= 0.9 * entries


def _shifted(frames: list[Frame], offset: tuple[float, float, float]) -> list[Frame]:
    shifted = []
    for frame in frames:
        matrix = frame.world_T_ego.matrix.copy()
        matrix[:3, 3] += offset
        shifted.append(Frame(frame.index, frame.timestamp_us, Pose(matrix), frame.lidar, dict(frame.images)))
    return shifted


def test_changed_ego_poses_miss_every_entry(base: Base) -> None:
    memo = GuidanceMemo()
    _queue(base, base.scene(), memo)
    entries = memo.misses
    scene = base.scene(frames=_shifted(base.file_scene.frames, (0.2, -0.1, 0.0)))
    assert _queue(base, scene, memo) == _queue(base, scene, None)
    assert memo.hits == 0 and memo.misses == 2 * entries


def test_fingerprints_follow_content_not_identity(base: Base, sample_dir: Path) -> None:
    track = base.candidates[0]
    assert track_fingerprint(copy.deepcopy(track)) == track_fingerprint(track)
    rebuilt = build_candidates(base.file_scene, base.file_scene.layer(DETECTIONS)).tracks
    assert [track_fingerprint(t) for t in rebuilt] == [track_fingerprint(t) for t in base.candidates]
    assert len({track_fingerprint(t) for t in base.candidates}) == len(base.candidates)
    changed = copy.deepcopy(track)
    frame = next(iter(changed.frame_attributes))
    changed.frame_attributes[frame]["det_score"] = 0.5
    assert track_fingerprint(changed) != track_fingerprint(track)
    for other in (
        dataclasses.replace(track, status=TrackStatus.CONFIRMED),
        dataclasses.replace(track, attributes={**track.attributes, "life_accepted": True}),
        dataclasses.replace(track, absent_frames=frozenset({track.first_frame + 1})),
        dataclasses.replace(track, size=track.size + np.array([0.0, 0.01, 0.0])),
        dataclasses.replace(track, motion=Stationary(Pose.identity())),
        _moved(track),
    ):
        assert track_fingerprint(other) != track_fingerprint(track)

    scene = base.file_scene
    again = read_scene("kitti-tracking", sample_dir / "kitti-tracking", "0001")
    assert scene_fingerprint(again) == scene_fingerprint(scene) == scene_fingerprint(base.scene())
    assert scene.lidar is not None
    for other_scene in (
        base.scene(frames=_shifted(scene.frames, (0.0, 0.0, 0.01))),
        dataclasses.replace(scene, lidar=dataclasses.replace(scene.lidar, range_m=60.0)),
        dataclasses.replace(scene, cameras={}),
        dataclasses.replace(scene, name="other"),
    ):
        assert scene_fingerprint(other_scene) != scene_fingerprint(scene)


def _constant(value: int) -> Callable[[], int]:
    return lambda: value


def test_the_memo_stays_within_its_bound(base: Base) -> None:
    memo = GuidanceMemo(max_entries=3)
    for i in range(10):
        assert memo.get_or_compute(("n", i), _constant(i * i)) == i * i
        memo.get_or_compute(("n", 0), _constant(-1))  # the most recently used stays
        assert len(memo) <= 3
    assert memo.get_or_compute(("n", 0), _constant(-1)) == 0
    assert memo.get_or_compute(("n", 1), _constant(-1)) == -1  # least recently used: gone
    with pytest.raises(ValueError):
        GuidanceMemo(max_entries=0)
    # A memo too small for the scene drops entries but never changes the queue.
    small = GuidanceMemo(max_entries=20)
    uncached = _queue(base, base.scene(), None)
    assert _queue(base, base.scene(), small) == uncached
    assert _queue(base, base.scene(), small) == uncached
    assert len(small) == 20


def test_threads_share_a_memo() -> None:
    memo = GuidanceMemo(max_entries=50)
    lookups, threads = 400, 4

    def work(offset: int) -> None:
        for i in range(lookups):
            key = ("sum", (i + offset) % 120)
            assert memo.get_or_compute(key, _constant(key[1] + 1)) == key[1] + 1

    runners = [threading.Thread(target=work, args=(n * 7,)) for n in range(threads)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    assert len(memo) <= 50 and memo.hits + memo.misses == lookups * threads


def test_lidar_results_are_keyed_by_the_sweeps(sample_dir: Path) -> None:
    scene = read_scene("kitti-odometry", sample_dir / "kitti-odometry-00-demo")
    sweeps = SceneSweeps(scene, capacity=len(scene.frames))
    # A parked car a person drew 12 m ahead and 4 m to the left of the first frame, held in its first 10.
    ahead = scene.frames[0].world_T_ego.compose(Pose.from_yaw(0.0, [12.0, 4.0, 0.8]))
    parked = Track("1", "Car", np.array([4.2, 1.8, 1.6]), Stationary(ahead), 0, 9)
    tracks = [parked]

    def both(memo: GuidanceMemo | None, with_sweeps: bool) -> list[Action]:
        given = sweeps if with_sweeps else None
        return [
            *measure_actions(scene, "work", tracks, given, memo=memo),
            *life_actions(scene, "work", tracks, given, memo=memo),
        ]

    memo = GuidanceMemo()
    without = both(memo, False)
    assert without == both(None, False)
    with_lidar = both(memo, True)
    assert with_lidar == both(None, True) and with_lidar != without
    assert any("lidar points" in a.reason for a in with_lidar if a.kind == "measure")
    assert memo.misses == 4 and memo.hits == 0
    assert both(memo, True) == with_lidar and memo.hits == 2
