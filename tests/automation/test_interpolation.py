"""Vectorised world-frame interpolation of all tracks at once, against the per-track reference on real data."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from scipy.interpolate import CubicHermiteSpline

from labelpilot.automation.interpolation import interpolate_scene_tracks, to_ego_all
from labelpilot.geometry import Pose
from labelpilot.scenes import Scene
from labelpilot.tracks import Keyframed, Stationary, Track, TrackShapes, to_ego, world_shapes
from tests.automation.scene_cache import av2_scene, kitti_scene

AV2_TRACKER_LOG = "3b3570b4-7b0b-3268-a571-b0889dbf40b6"
SIZE = np.array([4.5, 1.9, 1.6])


@pytest.fixture(scope="module")
def kitti_0001(sample_dir: Path) -> Scene:
    return kitti_scene(sample_dir / "kitti-tracking", "0001")


@pytest.fixture(scope="module")
def av2_tracker_scene(sample_dir: Path) -> Scene:
    return av2_scene(sample_dir / "argoverse2" / "logs" / AV2_TRACKER_LOG)


def sparse_real_tracks(scene: Scene, step: int) -> list[Track]:
    """Real ground-truth tracks keyed every ``step`` frames, their lives stretched by 3 frames at each end
    (held ends), a few frames absent, and every fifth one made stationary at its first real pose."""
    out: list[Track] = []
    last_scene_frame = len(scene.frames) - 1
    for i, track in enumerate(scene.layer("ground_truth").tracks):
        assert isinstance(track.motion, Keyframed)
        keys = dict(track.motion.keyframes)
        frames = sorted(keys)
        kept = {f: keys[f] for f in [*frames[::step], frames[-1]]}
        first, last = max(0, frames[0] - 3), min(last_scene_frame, frames[-1] + 3)
        motion = Stationary(keys[frames[0]]) if i % 5 == 0 else Keyframed(kept)
        absent = frozenset(f for f in range(first + 1, last, 11))
        out.append(
            dataclasses.replace(
                track, motion=motion, first_frame=first, last_frame=last, absent_frames=absent
            )
        )
    return out


def same_rotations(a: np.ndarray, b: np.ndarray, atol: float = 1e-9) -> bool:
    """Quaternions q and -q are one rotation."""
    return bool(np.all(np.abs(np.abs(np.sum(a * b, axis=1)) - 1.0) < atol))


def assert_same_shapes(got: list[TrackShapes], expected: list[TrackShapes], atol: float = 1e-9) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g.frames, e.frames)
        np.testing.assert_allclose(g.cuboids.centers, e.cuboids.centers, atol=atol, rtol=0)
        np.testing.assert_allclose(g.cuboids.sizes, e.cuboids.sizes, atol=0, rtol=0)
        assert same_rotations(g.cuboids.quats_xyzw, e.cuboids.quats_xyzw)


def test_linear_equals_world_shapes_on_kitti_tracker_and_sparse_ground_truth(kitti_0001: Scene) -> None:
    for tracks in (
        kitti_0001.layer("auto:pointrcnn_Car_hailanyi").tracks,
        sparse_real_tracks(kitti_0001, 7),
    ):
        got = interpolate_scene_tracks(tracks, len(kitti_0001.frames))
        assert_same_shapes(got, [world_shapes(t) for t in tracks])


def test_linear_equals_world_shapes_on_av2_tracker_keyed_at_2_hz(av2_tracker_scene: Scene) -> None:
    tracks = av2_tracker_scene.layer("auto:tracker").tracks
    got = interpolate_scene_tracks(tracks, len(av2_tracker_scene.frames))
    # The 2 Hz tracker keys 10 Hz frames: most shapes really are interpolated.
    keyframes = sum(len(t.motion.keyframes) for t in tracks if isinstance(t.motion, Keyframed))
    assert sum(len(s) for s in got) > 3 * keyframes
    assert_same_shapes(got, [world_shapes(t) for t in tracks])


def test_to_ego_all_equals_to_ego_per_track(kitti_0001: Scene, av2_tracker_scene: Scene) -> None:
    for scene, tracks in (
        (kitti_0001, sparse_real_tracks(kitti_0001, 5)),
        (av2_tracker_scene, av2_tracker_scene.layer("auto:tracker").tracks[:300]),
    ):
        world = interpolate_scene_tracks(tracks, len(scene.frames))
        poses = scene.world_T_ego_array()
        assert_same_shapes(to_ego_all(world, poses), [to_ego(s, poses) for s in world], atol=1e-8)


@pytest.mark.parametrize("method", ["linear", "hermite"])
def test_all_tracks_at_once_equal_one_track_at_a_time(kitti_0001: Scene, method: str) -> None:
    tracks = sparse_real_tracks(kitti_0001, 6)
    frames = len(kitti_0001.frames)
    together = interpolate_scene_tracks(tracks, frames, method)  # type: ignore[arg-type]
    alone = [interpolate_scene_tracks([t], frames, method)[0] for t in tracks]  # type: ignore[arg-type]
    assert_same_shapes(together, alone, atol=1e-12)


def spec_tangents(frames: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """The Hermite tangents as the module documents them, one keyframe at a time."""
    n = len(frames)
    out = np.zeros((n, 3))
    for k in range(n):
        if n == 1:
            continue
        if k == 0:
            out[k] = (centers[1] - centers[0]) / (frames[1] - frames[0])
        elif k == n - 1:
            out[k] = (centers[k] - centers[k - 1]) / (frames[k] - frames[k - 1])
        else:
            h0, h1 = frames[k] - frames[k - 1], frames[k + 1] - frames[k]
            d0, d1 = (centers[k] - centers[k - 1]) / h0, (centers[k + 1] - centers[k]) / h1
            for axis in range(3):
                if d0[axis] * d1[axis] > 0:
                    m = (h1 * d0[axis] + h0 * d1[axis]) / (h0 + h1)
                    out[k, axis] = np.sign(m) * min(abs(m), 3 * min(abs(d0[axis]), abs(d1[axis])))
    return out


def test_hermite_matches_a_scipy_spline_with_the_documented_tangents(kitti_0001: Scene) -> None:
    tracks = [t for t in sparse_real_tracks(kitti_0001, 8) if isinstance(t.motion, Keyframed)]
    got = interpolate_scene_tracks(tracks, len(kitti_0001.frames), "hermite")
    checked = 0
    for track, shapes in zip(tracks, got, strict=True):
        assert isinstance(track.motion, Keyframed)
        frames = np.array(track.motion.frames, dtype=np.float64)
        if len(frames) < 3:
            continue
        centers = np.stack([p.translation for p in track.motion.keyframes.values()])
        spline = CubicHermiteSpline(frames, centers, spec_tangents(frames, centers))
        expected = spline(np.clip(shapes.frames, frames[0], frames[-1]))
        np.testing.assert_allclose(shapes.cuboids.centers, expected, atol=1e-9, rtol=0)
        # Rotations are slerped with either method.
        linear = world_shapes(track)
        assert same_rotations(shapes.cuboids.quats_xyzw, linear.cuboids.quats_xyzw)
        checked += 1
    assert checked > 10


def keyed(positions: dict[int, list[float]], yaw: float = 0.0, **kwargs: object) -> Track:
    track = Track.keyframed("t", "Car", SIZE, {f: Pose.from_yaw(yaw, p) for f, p in positions.items()})
    return dataclasses.replace(track, **kwargs)  # type: ignore[arg-type]


def centers_of(track: Track, method: str = "hermite", **kwargs: object) -> np.ndarray:
    shapes = interpolate_scene_tracks([track], track.last_frame + 1, method, **kwargs)  # type: ignore[arg-type]
    return shapes[0].cuboids.centers


def test_hermite_keeps_constant_velocity_straight_with_uneven_keyframes() -> None:
    frames = [0, 3, 11, 12, 20, 34]
    track = keyed({f: [1.5 * f, -0.4 * f, 2.0] for f in frames})
    expected = np.column_stack([1.5 * np.arange(35), -0.4 * np.arange(35), np.full(35, 2.0)])
    np.testing.assert_allclose(centers_of(track), expected, atol=1e-12)


def test_hermite_reproduces_constant_acceleration_between_inner_keyframes() -> None:
    frames = np.array([10, 16, 21, 29, 35, 40, 48])
    acceleration = 0.04  # metres per frame^2
    track = keyed({int(f): [acceleration / 2 * f**2, 0.0, 0.0] for f in frames})
    hermite, linear = centers_of(track), centers_of(track, "linear")
    inner = np.arange(frames[1], frames[-2] + 1)
    truth = acceleration / 2 * inner.astype(np.float64) ** 2
    np.testing.assert_allclose(hermite[inner - frames[0], 0], truth, atol=1e-12)
    # Linear cuts the corner by a * h^2 / 8 in the middle of a segment.
    assert np.abs(linear[inner - frames[0], 0] - truth).max() > 0.05


def test_hermite_does_not_overshoot_a_car_that_stops() -> None:
    track = keyed({0: [0.0, 0, 0], 10: [12.0, 0, 0], 20: [13.0, 0, 0], 30: [13.0, 0, 0], 40: [13.0, 0, 0]})
    x = centers_of(track)[:, 0]
    assert np.all(np.diff(x) >= -1e-12), "positions must not go backwards"
    assert x.max() <= 13.0 + 1e-12
    np.testing.assert_allclose(x[20:], 13.0, atol=1e-12)


def test_given_velocities_take_precedence_and_metres_per_second_need_timestamps() -> None:
    base = keyed({0: [0.0, 0, 0], 10: [10.0, 0, 0]})
    # With no velocity, two keyframes are a straight line.
    np.testing.assert_allclose(centers_of(base)[:, 0], np.arange(11.0), atol=1e-12)
    # Starting at rest and arriving fast: the curve starts flat.
    per_frame = dataclasses.replace(
        base, frame_attributes={0: {"velocity": [0.0, 0, 0]}, 10: {"velocity": [2.0, 0, 0]}}
    )
    x = centers_of(per_frame)[:, 0]
    assert x[1] - x[0] < 0.2 and x[10] - x[9] > 1.5
    per_second = dataclasses.replace(
        base, frame_attributes={0: {"velocity_m_per_s": [0.0, 0, 0]}, 10: {"velocity_m_per_s": [20.0, 0, 0]}}
    )
    stamps = np.arange(11) * 100_000  # 10 Hz: 20 m/s is 2 m/frame
    np.testing.assert_allclose(centers_of(per_second, timestamps_us=stamps)[:, 0], x, atol=1e-12)
    # Without timestamps metres per second cannot be used: the line again.
    np.testing.assert_allclose(centers_of(per_second)[:, 0], np.arange(11.0), atol=1e-12)


@pytest.mark.parametrize("method", ["linear", "hermite"])
def test_ends_are_held_and_keyframes_reproduced(method: str) -> None:
    poses = {
        3: Pose.from_yaw(0.3, [1, 2, 0]),
        6: Pose.from_yaw(2.9, [4, 0, 1]),
        9: Pose.from_yaw(-3.0, [5, 5, 0]),
    }
    track = Track("t", "Car", SIZE, Keyframed(poses), first_frame=0, last_frame=12)
    shapes = interpolate_scene_tracks([track], 13, method)[0]  # type: ignore[arg-type]
    for frame, pose in poses.items():
        np.testing.assert_allclose(shapes.cuboids.centers[frame], pose.translation, atol=1e-12)
        assert same_rotations(shapes.cuboids.quats_xyzw[frame : frame + 1], pose.quat_xyzw[None])
    np.testing.assert_allclose(shapes.cuboids.centers[:3], np.tile([1, 2, 0], (3, 1)), atol=1e-12)
    np.testing.assert_allclose(shapes.cuboids.centers[10:], np.tile([5, 5, 0], (3, 1)), atol=1e-12)
    # From 2.9 to -3.0 rad the short way is 0.38 rad through pi, not 5.9 rad through 0.
    yaws = shapes.cuboids.yaws[6:10]
    assert np.all(np.abs(yaws) > 2.85)


def test_bad_requests_raise() -> None:
    track = keyed({0: [0.0, 0, 0], 10: [10.0, 0, 0]})
    with pytest.raises(ValueError, match=r"frames 0\.\.10, but the scene has frames 0\.\.4"):
        interpolate_scene_tracks([track], 5)
    with pytest.raises(ValueError, match="unknown interpolation method"):
        interpolate_scene_tracks([track], 11, "cubic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timestamps_us has 3 entries for 11 frames"):
        interpolate_scene_tracks([track], 11, timestamps_us=[0, 1, 2])
    shapes = interpolate_scene_tracks([track], 11)
    with pytest.raises(ValueError, match="only 4 ego poses"):
        to_ego_all(shapes, np.tile(np.eye(4), (4, 1, 1)))
    assert interpolate_scene_tracks([], 11) == []
