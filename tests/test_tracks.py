"""The track model and world-frame interpolation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from labelpilot.geometry import Pose, normalize_yaw
from labelpilot.scenes import Scene, frames_from_poses
from labelpilot.tracks import AnnotationLayer, Keyframed, Stationary, Track, world_shapes


def _track(keyframes: dict[int, Pose]) -> Track:
    return Track.keyframed("t1", "Car", [4.0, 1.8, 1.5], keyframes)


def test_linear_position_between_keyframes() -> None:
    track = _track({0: Pose.from_yaw(0.0, [0, 0, 0]), 10: Pose.from_yaw(0.0, [10, 5, 1])})
    shapes = world_shapes(track)
    assert shapes.frames.tolist() == list(range(11))
    np.testing.assert_allclose(shapes.cuboids.centers[3], [3.0, 1.5, 0.3])
    np.testing.assert_allclose(shapes.cuboids.sizes, np.tile([4.0, 1.8, 1.5], (11, 1)))


def test_yaw_takes_the_shortest_arc_across_pi() -> None:
    track = _track({0: Pose.from_yaw(3.0, [0, 0, 0]), 2: Pose.from_yaw(-3.0, [0, 0, 0])})
    mid = world_shapes(track, [1]).cuboids.yaws[0]
    # the short way from 3.0 to -3.0 passes through pi, not through 0
    assert abs(abs(mid) - np.pi) < 1e-9


def test_keyframes_are_reproduced_exactly_and_ends_are_held() -> None:
    poses = {2: Pose.from_yaw(0.4, [1, 2, 0]), 5: Pose.from_yaw(-0.2, [4, 1, 0])}
    track = Track("t", "Car", np.array([4.0, 2.0, 1.5]), Keyframed(poses), first_frame=0, last_frame=7)
    shapes = world_shapes(track)
    for frame, pose in poses.items():
        cuboid = shapes.cuboids[frame]
        assert cuboid.allclose(type(cuboid).from_pose(pose, track.size), atol=1e-9), (
            f"keyframe {frame} changed"
        )
    np.testing.assert_allclose(shapes.cuboids.centers[0], [1, 2, 0])
    np.testing.assert_allclose(shapes.cuboids.centers[7], [4, 1, 0])


def test_absent_frames_have_no_shape() -> None:
    track = Track(
        "t",
        "Car",
        np.array([4.0, 2.0, 1.5]),
        Keyframed({0: Pose.identity(), 4: Pose.identity()}),
        first_frame=0,
        last_frame=4,
        absent_frames=frozenset({2}),
    )
    assert world_shapes(track).frames.tolist() == [0, 1, 3, 4]
    assert not track.has_shape(2)


def test_stationary_track_is_fixed_in_world_and_moves_in_ego() -> None:
    ego_poses = [Pose.from_yaw(0.1 * i, [2.0 * i, 0.5 * i, 0.0]) for i in range(5)]
    scene = Scene("s", frames_from_poses(ego_poses))
    box = Pose.from_yaw(0.7, [20.0, 3.0, 0.8])
    parked = Track("p", "Car", np.array([4.2, 1.8, 1.5]), Stationary(box), first_frame=0, last_frame=4)
    scene.add_layer(AnnotationLayer("work", [parked]))
    world = scene.world_shapes(parked)
    np.testing.assert_allclose(world.cuboids.centers, np.tile(box.translation, (5, 1)))
    ego = scene.ego_shapes(parked)
    for i, pose in enumerate(ego_poses):
        expected = pose.inverse().apply(box.translation)
        np.testing.assert_allclose(ego.cuboids.centers[i], expected, atol=1e-9)
        assert abs(normalize_yaw(ego.cuboids.yaws[i] - (0.7 - 0.1 * i))) < 1e-9
    in_frame = scene.shapes_in_frame("work", 3)
    assert len(in_frame) == 1
    np.testing.assert_allclose(in_frame[0][1].center, ego.cuboids.centers[3], atol=1e-9)


def test_tilted_ego_poses_round_trip_full_rotations() -> None:
    tilt = Rotation.from_euler("xyz", [0.04, -0.03, 0.9])
    ego = Pose.from_rotation_translation(tilt, [3.0, -1.0, 0.2])
    scene = Scene("s", frames_from_poses([Pose.identity(), ego]))
    ego_box = Pose.from_yaw(1.2, [10.0, 2.0, -0.5])
    track = Track.keyframed("t", "Car", [4, 2, 1.5], {1: ego @ ego_box})
    back = scene.ego_shapes(track).cuboids[0]
    np.testing.assert_allclose(back.center, ego_box.translation, atol=1e-9)
    assert abs(back.yaw - 1.2) < 1e-9


def test_invalid_tracks_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="outside its frames"):
        Track("t", "Car", np.ones(3), Keyframed({9: Pose.identity()}), first_frame=0, last_frame=3)
    with pytest.raises(ValueError, match="size"):
        Track.keyframed("t", "Car", [1.0, -1.0, 1.0], {0: Pose.identity()})
    scene = Scene("s", frames_from_poses([Pose.identity()] * 2))
    long_track = Track.keyframed("t", "Car", [1, 1, 1], {0: Pose.identity(), 5: Pose.identity()})
    with pytest.raises(ValueError, match=r"frames 0\.\.1"):
        scene.ego_shapes(long_track)
