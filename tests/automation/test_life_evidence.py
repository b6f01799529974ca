"""Proposed track lives on real data: KITTI tracking 0001 (bundled sample, no lidar), PointRCNN detections
associated into candidates, judged against the sequence's ground truth (which the proposal never reads).

Bounds come from a first honest run with headroom. On the 11 KITTI dev sequences the strong last ends
(the scene ends, or the box leaves the camera's view) were within 2 frames of the labelled end for
85-100 % of the matched candidates, the weak ones for about 25 %: the verdict separates them.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from labelpilot.automation.candidates import build_candidates
from labelpilot.automation.life_evidence import (
    LifeSettings,
    detection_frames,
    in_sensor_view,
    propose_end,
    propose_life,
)
from labelpilot.formats import read_scene
from labelpilot.geometry import Cuboid
from labelpilot.guidance.actions import Action
from labelpilot.guidance.life_actions import LIFE_ACCEPTED, LIFE_CHECKED, life_actions, proposal_for
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Keyframed, Stationary, Track, TrackStatus, world_shapes


@pytest.fixture(scope="module")
def kitti_0001(sample_dir: Path) -> tuple[Scene, AnnotationLayer]:
    scene = read_scene("kitti-tracking", sample_dir / "kitti-tracking", "0001")
    candidates = build_candidates(scene, scene.layer("auto:pointrcnn"))
    return scene, candidates


def _labelled_life(scene: Scene, track: Track) -> tuple[int, int] | None:
    """The ground-truth object a candidate's detections lie on most often, and its labelled life."""
    truth = scene.layer("ground_truth")
    frames = detection_frames(track)
    centers = world_shapes(track, frames).cuboids.centers
    votes: Counter[str] = Counter()
    for frame, center in zip(frames, centers, strict=True):
        best, best_d = None, 2.0
        for obj in truth:
            if not obj.has_shape(frame):
                continue
            d = float(np.linalg.norm(world_shapes(obj, [frame]).cuboids.centers[0, :2] - center[:2]))
            if d < best_d:
                best, best_d = obj, d
        if best is not None:
            votes[best.track_id] += 1
    if not votes:
        return None
    obj = truth.track(votes.most_common(1)[0][0])
    return obj.first_frame, obj.last_frame


def _confident(candidates: AnnotationLayer) -> list[Track]:
    return [t for t in candidates if (t.score or 0.0) >= 0.25 and len(detection_frames(t)) >= 4]


def test_strong_last_ends_are_close_to_the_labelled_end(kitti_0001: tuple[Scene, AnnotationLayer]) -> None:
    scene, candidates = kitti_0001
    errors: dict[bool, list[int]] = {True: [], False: []}
    for track in _confident(candidates):
        life = _labelled_life(scene, track)
        if life is None:
            continue
        end = propose_end(scene, track, "last")
        errors[end.weak].append(abs(end.frame - life[1]))
    strong = np.array(errors[False])
    assert len(strong) >= 20
    assert float(np.mean(strong <= 2)) >= 0.8
    assert errors[True], "some ends must be flagged"
    assert float(np.mean(strong <= 2)) > float(np.mean(np.array(errors[True]) <= 2))


def test_first_ends_inside_the_scene_are_always_flagged(kitti_0001: tuple[Scene, AnnotationLayer]) -> None:
    scene, candidates = kitti_0001
    for track in _confident(candidates):
        proposal = propose_life(scene, track)
        first = detection_frames(track)[0]
        assert proposal.first.frame == first
        assert proposal.first.weak == (first != 0)
        assert proposal.first.frame <= proposal.last.frame


def test_a_life_never_leaves_the_scene_and_starts_from_its_detections(
    kitti_0001: tuple[Scene, AnnotationLayer],
) -> None:
    scene, candidates = kitti_0001
    for track in _confident(candidates):
        proposal = propose_life(scene, track)
        detected = detection_frames(track)
        assert 0 <= proposal.first.frame <= detected[0]
        assert detected[-1] <= proposal.last.frame < len(scene.frames)
        assert proposal.last.frame - detected[-1] <= LifeSettings().max_extension_stationary


def test_a_box_behind_the_camera_or_out_of_range_is_out_of_view(
    kitti_0001: tuple[Scene, AnnotationLayer],
) -> None:
    scene, _ = kitti_0001
    ego = scene.frames[0].world_T_ego
    ahead = Cuboid.from_yaw(ego.apply([[15.0, 0.0, 0.8]])[0], [4.0, 1.8, 1.5], 0.0)
    behind = Cuboid.from_yaw(ego.apply([[-15.0, 0.0, 0.8]])[0], [4.0, 1.8, 1.5], 0.0)
    far = Cuboid.from_yaw(ego.apply([[120.0, 0.0, 0.8]])[0], [4.0, 1.8, 1.5], 0.0)
    settings = LifeSettings()
    assert in_sensor_view(scene, 0, ahead, settings)
    assert not in_sensor_view(scene, 0, behind, settings)
    assert not in_sensor_view(scene, 0, far, settings)


def test_life_actions_offer_one_accept_and_a_check_per_weak_end(
    kitti_0001: tuple[Scene, AnnotationLayer],
) -> None:
    scene, candidates = kitti_0001
    confirmed = [dataclasses.replace(t, status=TrackStatus.CONFIRMED) for t in _confident(candidates)[:8]]
    actions = life_actions(scene, "work", confirmed)
    for track in confirmed:
        mine = [a for a in actions if a.track_id == track.track_id]
        accepts = [a for a in mine if a.kind == "accept_life"]
        assert len(accepts) == 1 and accepts[0].key == "a" and accepts[0].life is not None
        proposal = propose_life(scene, track)
        assert accepts[0].life == proposal.frames
        weak = sorted(e.frame for e in (proposal.first, proposal.last) if e.weak)
        checks = sorted(a.frame for a in mine if a.kind == "check_end")
        assert checks == weak
        assert all(a.view == "side" and a.key == "g" for a in mine if a.kind == "check_end")
        assert Action.from_json(accepts[0].to_json()) == accepts[0]
    # Once accepted (and its weak ends looked at) a track asks for nothing more.
    done = []
    for track in confirmed:
        first, last = propose_life(scene, track).frames
        marks = {LIFE_ACCEPTED: True, LIFE_CHECKED["first"]: first, LIFE_CHECKED["last"]: last}
        done.append(dataclasses.replace(track, attributes={**track.attributes, **marks}))
    assert life_actions(scene, "work", done) == []


def _drawn_parked_cars(scene: Scene, frames_seen: int = 6) -> list[tuple[Track, tuple[int, int]]]:
    """Each labelled car of the scene that does not move, as a person draws it: one world box (its
    labelled box in the last frame drawn), stationary, from its first labelled frame for ``frames_seen``
    frames; with its labelled life (which the proposal never reads)."""
    drawn = []
    for obj in scene.layer("ground_truth"):
        frames = obj.frames()
        centers = world_shapes(obj, frames).cuboids.centers
        if obj.label != "Car" or len(frames) < 20 or np.ptp(centers[:, :2], axis=0).max() > 1.0:
            continue
        last = frames[0] + frames_seen - 1
        box = world_shapes(obj, [last]).cuboids[0]
        track = Track(f"drawn-{obj.track_id}", obj.label, box.size, Stationary(box.pose), frames[0], last)
        drawn.append((track, (obj.first_frame, obj.last_frame)))
    return drawn


def test_a_drawn_stationary_track_is_carried_to_where_it_leaves_the_view(
    kitti_0001: tuple[Scene, AnnotationLayer],
) -> None:
    """A parked car a person drew is carried on through the poses: where its box leaves the camera's
    view the proposal ends, mostly exactly where KITTI's labels end; where it is still in view 30 frames on,
    the proposal goes that far (no sweeps here: the person's box is the evidence) and asks for a look."""
    scene, _ = kitti_0001
    drawn = _drawn_parked_cars(scene)
    assert len(drawn) >= 15
    early_by: list[int] = []
    for track, (_, labelled_last) in drawn:
        actions = life_actions(scene, "work", [track])
        accepts = [a for a in actions if a.kind == "accept_life"]
        assert len(accepts) == 1 and accepts[0].life is not None
        first, last = accepts[0].life
        assert first == track.first_frame  # where a person drew it from stays theirs
        assert track.last_frame < last <= track.last_frame + LifeSettings().max_extension_stationary
        checks = [a.frame for a in actions if a.kind == "check_end"]
        if checks:
            assert checks == [last] and "still in view" in accepts[0].reason
        else:
            assert "leaves the camera's view" in accepts[0].reason
            early_by.append(labelled_last - last)
    assert len(early_by) >= 12
    # Measured: 18 of 22 exactly on the labelled end, the rest within 3 frames after it (with a
    # detector's 0.1 share of the box in the image, most ended 1-5 frames early).
    assert all(-4 <= d <= 2 for d in early_by), early_by
    assert float(np.mean(np.array(early_by) == 0)) >= 0.7, early_by


def test_a_drawn_track_is_carried_on_until_a_person_finds_it_gone(
    kitti_0001: tuple[Scene, AnnotationLayer],
) -> None:
    scene, _ = kitti_0001
    weak = []
    for track, _ in _drawn_parked_cars(scene):
        proposal = proposal_for(scene, track, None)
        assert proposal is not None
        if proposal.last.weak:
            weak.append((track, proposal))
    assert weak, "some parked car is still in view 30 frames after it was drawn"
    track, proposal = weak[0]
    # Accepted, and its end looked at and found right: carried on from the new end.
    taken = dataclasses.replace(
        track, last_frame=proposal.last.frame, attributes={LIFE_CHECKED["last"]: proposal.last.frame}
    )
    further = proposal_for(scene, taken, None)
    assert further is not None and further.last.frame > taken.last_frame
    offered = [a.life for a in life_actions(scene, "work", [taken]) if a.kind == "accept_life"]
    assert offered == [further.frames]
    # The object was found gone at the proposed end, and the life ends before it: nothing to carry on.
    gone = dataclasses.replace(taken, last_frame=taken.last_frame - 4)
    assert "accept_life" not in [a.kind for a in life_actions(scene, "work", [gone])]


def _labelled_boxes(obj: Track) -> dict[int, Cuboid]:
    """A labelled object's world box in every frame it has one."""
    shapes = world_shapes(obj)
    return {int(f): shapes.cuboids[i] for i, f in enumerate(shapes.frames.tolist())}


def _keyed(obj: Track, boxes: dict[int, Cuboid], frames: tuple[int, int]) -> Track:
    """The moving track a person keys at its labelled boxes of ``frames``, living between them."""
    keys = {f: boxes[f].pose for f in frames}
    return Track(f"keyed-{obj.track_id}", obj.label, boxes[frames[0]].size, Keyframed(keys), *frames)


def test_a_drawn_moving_track_is_continued_where_its_keyframes_lead(
    kitti_0001: tuple[Scene, AnnotationLayer],
) -> None:
    """A car driving through 0001, keyed by a person at its labelled boxes one second apart, is proposed
    to go on for up to a second more, and its box there is the continued one (the editor's extend);
    keyed once, it has no motion to continue and no proposal."""
    scene, _ = kitti_0001
    truth = scene.layer("ground_truth")
    continued = 0
    for obj in truth:
        frames = obj.frames()
        boxes = _labelled_boxes(obj)
        if obj.label != "Car" or len(frames) < 30 or frames[0] + 29 not in boxes:
            continue
        if np.linalg.norm(boxes[frames[0] + 10].center - boxes[frames[0]].center) < 3.0:
            continue  # parked or crawling
        track = _keyed(obj, boxes, (frames[0], frames[0] + 10))
        proposal = proposal_for(scene, track, None)
        assert proposal is not None and proposal.first.frame == frames[0]
        last = proposal.last.frame
        assert track.last_frame < last <= track.last_frame + LifeSettings().max_extension_keyed_moving
        offered = [a for a in life_actions(scene, "work", [track]) if a.kind == "accept_life"]
        assert [a.life for a in offered] == [proposal.frames]
        if proposal.last.weak:
            continued += 1
        once = dataclasses.replace(
            track, motion=Keyframed({frames[0]: boxes[frames[0]].pose}), last_frame=frames[0]
        )
        assert proposal_for(scene, once, None) is None
    assert continued >= 3


def test_a_box_drawn_beyond_the_usual_range_stays_in_range_while_it_comes_no_farther(
    kitti_0001: tuple[Scene, AnnotationLayer],
) -> None:
    scene, _ = kitti_0001
    frame = 100
    ego = scene.frames[frame].world_T_ego
    far = Cuboid.from_yaw(ego.apply([[88.0, 0.0, 1.5]])[0], [10.0, 2.6, 3.5], 0.0)  # a truck ahead
    track = Track("far", "Truck", far.size, Stationary(far.pose), frame - 3, frame)
    end = propose_end(scene, track, "last", judged_box=True)
    assert end.frame > frame and "lidar range" not in end.reason


def test_argoverse_2_objects_are_in_lidar_range_as_far_as_its_labels_reach(sample_dir: Path) -> None:
    """Argoverse 2 labels objects up to 200 m: a car a person keyed there while it drives away beyond
    80 m (the default, KITTI's reach) is carried on where its keyframes lead; with the scene's lidar
    range forgotten the same car would leave lidar range at once."""
    scene = read_scene("av2", sample_dir / "argoverse2/logs", "3b3570b4-7b0b-3268-a571-b0889dbf40b6")
    assert scene.lidar is not None and scene.lidar.range_m == 200.0
    unranged = dataclasses.replace(scene, lidar=dataclasses.replace(scene.lidar, range_m=None))
    receding = 0
    for obj in scene.layer("ground_truth"):
        boxes = _labelled_boxes(obj)
        start = obj.first_frame
        if not all(f in boxes for f in (start, start + 10, start + 20)):
            continue
        ranges = [
            float(np.linalg.norm(boxes[f].transformed(scene.frames[f].world_T_ego.inverse()).center[:2]))
            for f in (start, start + 10, start + 20)
        ]
        moved = float(np.linalg.norm(boxes[start + 10].center - boxes[start].center))
        if not (90.0 < ranges[1] < ranges[2] < 180.0 and moved > 3.0):
            continue
        track = _keyed(obj, boxes, (start, start + 10))
        ranged = proposal_for(scene, track, None)
        assert ranged is not None and ranged.last.frame == start + 20
        assert "lidar range" not in ranged.last.reason
        forgotten = proposal_for(unranged, track, None)
        assert forgotten is not None and forgotten.last.frame == start + 10
        assert "lidar range" in forgotten.last.reason
        receding += 1
    assert receding >= 3
