"""A moving track extended past its keyframes goes on where they lead (``tracks.extrapolation``), on
real labelled drives: every moving ground-truth object of the bundled Argoverse 2 log and of KITTI 0001,
keyed one and two seconds before a frame (as the scans key it), continued to that frame, judged by the
effort benchmark's pass rule (3D IoU 0.7 for vehicles, 0.5 for people) against its label there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelpilot.formats import read_scene
from labelpilot.geometry import Cuboid, CuboidBatch, Pose, iou_3d_pairs
from labelpilot.scenes import Scene
from labelpilot.tracks import world_shapes
from labelpilot.tracks.extrapolation import extrapolated_pose

PEOPLE = {"pedestrian", "cyclist", "person_sitting", "bicyclist", "motorcyclist", "wheeled_rider"}


def _passes(box: Cuboid, truth: Cuboid, label: str) -> bool:
    iou = iou_3d_pairs(CuboidBatch.from_cuboids([box]), CuboidBatch.from_cuboids([truth]))[0]
    return bool(iou >= (0.5 if label.lower() in PEOPLE else 0.7))


def _pass_counts(scene: Scene, stride: int) -> tuple[int, int, int]:
    """(frames judged, passing when held at the last keyframe, passing when continued)."""
    times = [f.timestamp_us / 1e6 for f in scene.frames]
    judged = held = continued = 0
    for obj in scene.layer("ground_truth"):
        frames = obj.frames()
        boxes = dict(zip(frames, world_shapes(obj, frames).cuboids, strict=True))
        if len(frames) < 3 * stride or np.linalg.norm(boxes[frames[-1]].center - boxes[frames[0]].center) < 2:
            continue
        for frame in frames[2 * stride :: stride]:
            keys = {k: boxes[k].pose for k in (frame - 2 * stride, frame - stride) if k in boxes}
            if len(keys) < 2:
                continue
            pose = extrapolated_pose(keys, times, frame)
            assert pose is not None
            truth = boxes[frame]
            judged += 1
            held += _passes(
                Cuboid(keys[frame - stride].translation, truth.size, keys[frame - stride].quat_xyzw),
                truth,
                obj.label,
            )
            continued += _passes(Cuboid(pose.translation, truth.size, pose.quat_xyzw), truth, obj.label)
    return judged, held, continued


@pytest.mark.parametrize(
    ("dataset", "path", "sequence"),
    [
        ("av2", "argoverse2/logs/7fab2350-7eaf-3b7e-a39d-6937a4c1bede", None),
        ("kitti-tracking", "kitti-tracking", "0001"),
    ],
)
def test_a_continued_box_passes_far_more_often_than_a_held_one(
    sample_dir: Path, dataset: str, path: str, sequence: str | None
) -> None:
    scene = (
        read_scene(dataset, sample_dir / path, sequence)
        if sequence
        else read_scene(dataset, sample_dir / path)
    )
    judged, held, continued = _pass_counts(scene, stride=10)
    assert judged >= 20
    assert continued >= 2 * held and continued / judged >= 0.4, (judged, held, continued)


def test_between_its_keyframes_or_with_one_there_is_nothing_to_continue() -> None:
    times = [0.1 * f for f in range(30)]
    a, b = Pose.from_yaw(0.0, [0.0, 0.0, 0.0]), Pose.from_yaw(0.2, [5.0, 0.0, 0.0])
    assert extrapolated_pose({0: a, 10: b}, times, 5) is None
    assert extrapolated_pose({10: b}, times, 20) is None
    # Straight on at 5 m per second and 0.2 rad per second, both ways.
    ahead = extrapolated_pose({0: a, 10: b}, times, 20)
    behind = extrapolated_pose({10: a, 20: b}, times, 0)
    assert ahead is not None and behind is not None
    assert np.allclose(ahead.translation, [10.0, 0.0, 0.0]) and ahead.yaw == pytest.approx(0.4)
    assert np.allclose(behind.translation, [-5.0, 0.0, 0.0]) and behind.yaw == pytest.approx(-0.2)


def test_the_velocity_comes_from_keyframes_half_a_second_apart_where_there_are_some() -> None:
    times = [0.1 * f for f in range(40)]
    steady = {f: Pose.from_yaw(0.0, [1.0 * f, 0.0, 0.0]) for f in (0, 10)}
    # A keyframe a frame before the end, 0.3 m off the line: used alone it would bend the path.
    noisy = {**steady, 9: Pose.from_yaw(0.0, [9.0, 0.3, 0.0])}
    pose = extrapolated_pose(noisy, times, 20)
    assert pose is not None and np.allclose(pose.translation, [20.0, 0.0, 0.0])
