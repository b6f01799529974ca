"""Keyframe suggestion: real ground truth and tracker output reproduced within tolerance from few keyframes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelpilot.automation.interpolation import InterpolationMethod, interpolate_scene_tracks
from labelpilot.automation.keyframes import (
    DEFAULT_CENTER_TOL,
    DEFAULT_YAW_TOL,
    interpolation_errors,
    keyframed_track,
    suggest_for_track,
    suggest_keyframes,
)
from labelpilot.geometry import yaw_difference
from labelpilot.scenes import Scene
from labelpilot.tracks import Keyframed, Track, TrackShapes
from tests.automation.scene_cache import av2_scene, kitti_scene

AV2_GT_LOG = "7fab2350-7eaf-3b7e-a39d-6937a4c1bede"
AV2_TRACKER_LOG = "3b3570b4-7b0b-3268-a571-b0889dbf40b6"
METHODS: tuple[InterpolationMethod, ...] = ("linear", "hermite")


@pytest.fixture(scope="module")
def kitti_0001(sample_dir: Path) -> Scene:
    return kitti_scene(sample_dir / "kitti-tracking", "0001")


@pytest.fixture(scope="module")
def av2_gt(sample_dir: Path) -> Scene:
    return av2_scene(sample_dir / "argoverse2" / "logs" / AV2_GT_LOG)


@pytest.fixture(scope="module")
def av2_tracker(sample_dir: Path) -> Scene:
    return av2_scene(sample_dir / "argoverse2" / "logs" / AV2_TRACKER_LOG)


def worst_errors(track: Track, keyframes: list[int], method: InterpolationMethod) -> tuple[float, float]:
    """Largest centre and heading error of the track rebuilt from ``keyframes``, against its own shapes,
    both derived by the interpolation the editor uses."""
    frames = track.last_frame + 1
    truth = interpolate_scene_tracks([track], frames)[0]
    rebuilt = interpolate_scene_tracks([keyframed_track(track, keyframes)], frames, method)[0]
    np.testing.assert_array_equal(rebuilt.frames, truth.frames)
    center = np.linalg.norm(rebuilt.cuboids.centers - truth.cuboids.centers, axis=1).max()
    yaw = np.abs(yaw_difference(rebuilt.cuboids.yaws, truth.cuboids.yaws)).max()
    return float(center), float(yaw)


def check_layer(tracks: list[Track], method: InterpolationMethod) -> tuple[int, int]:
    """Every suggestion starts and ends with the track and keeps it within tolerance; (keyframes, shapes)."""
    keyframes = shapes = 0
    for track in tracks:
        suggested = suggest_for_track(track, method=method)
        frames = track.frames()
        assert suggested[0] == frames[0] and suggested[-1] == frames[-1]
        assert suggested == sorted(set(suggested)) and set(suggested) <= set(frames)
        center, yaw = worst_errors(track, suggested, method)
        assert center <= DEFAULT_CENTER_TOL + 1e-9, f"track {track.track_id}: centre off by {center:.3f} m"
        assert yaw <= DEFAULT_YAW_TOL + 1e-9, f"track {track.track_id}: heading off by {yaw:.4f} rad"
        keyframes += len(suggested)
        shapes += len(frames)
    return keyframes, shapes


@pytest.mark.parametrize("method", METHODS)
def test_kitti_ground_truth_needs_few_keyframes_within_tolerance(
    kitti_0001: Scene, method: InterpolationMethod
) -> None:
    tracks = kitti_0001.layer("ground_truth").tracks
    # The source keys every labelled frame.
    assert all(isinstance(t.motion, Keyframed) and len(t.motion.keyframes) == len(t.frames()) for t in tracks)
    keyframes, shapes = check_layer(tracks, method)
    assert keyframes < 0.3 * shapes


@pytest.mark.parametrize("method", METHODS)
def test_av2_ground_truth_needs_few_keyframes_within_tolerance(
    av2_gt: Scene, method: InterpolationMethod
) -> None:
    keyframes, shapes = check_layer(av2_gt.layer("ground_truth").tracks, method)
    assert keyframes < 0.3 * shapes


def test_av2_tracker_candidates_reproduced_from_their_own_shapes(av2_tracker: Scene) -> None:
    tracks = [t for t in av2_tracker.layer("auto:tracker").tracks if len(t.frames()) > 20]
    assert len(tracks) > 50
    check_layer(tracks, "linear")


def test_candidate_shapes_are_what_is_reproduced(av2_gt: Scene) -> None:
    """A track keyed at its two ends, asked to follow the ground truth's shapes, gets the keyframes the
    ground truth needs, not its own two."""
    track = max(av2_gt.layer("ground_truth").tracks, key=lambda t: len(t.frames()))
    truth = interpolate_scene_tracks([track], track.last_frame + 1)[0]
    ends = keyframed_track(track, [track.first_frame, track.last_frame])
    assert suggest_for_track(ends) == [track.first_frame, track.last_frame]
    following = suggest_for_track(ends, truth)
    assert following == suggest_for_track(track)
    assert len(following) > 2


@pytest.mark.parametrize("method", METHODS)
def test_looser_tolerances_never_need_more_keyframes(
    kitti_0001: Scene, av2_gt: Scene, method: InterpolationMethod
) -> None:
    tracks = kitti_0001.layer("ground_truth").tracks[::3] + av2_gt.layer("ground_truth").tracks[::3]
    for track in tracks:
        counts = [
            len(
                suggest_for_track(
                    track, center_tol=DEFAULT_CENTER_TOL * k, yaw_tol=DEFAULT_YAW_TOL * k, method=method
                )
            )
            for k in (0.5, 1.0, 2.0, 4.0)
        ]
        assert counts == sorted(counts, reverse=True), f"track {track.track_id}: {counts}"
    assert len(tracks) > 40


@pytest.mark.parametrize("method", METHODS)
def test_a_straight_constant_velocity_track_needs_only_its_ends(method: InterpolationMethod) -> None:
    frames = np.array([4, 5, 6, 9, 10, 11, 12, 20, 21, 22, 40])  # gaps where the object was hidden
    centers = np.column_stack([3.0 + 1.2 * frames, 7.0 - 0.5 * frames, np.full(len(frames), 1.1)])
    yaws = np.full(len(frames), np.arctan2(-0.5, 1.2))
    assert suggest_keyframes(frames, centers, yaws, method=method) == [4, 40]


@pytest.mark.parametrize("method", METHODS)
def test_turning_from_170_to_minus_170_degrees_is_a_20_degree_turn(method: InterpolationMethod) -> None:
    frames = np.arange(21)
    yaws = np.deg2rad(170.0 + frames)  # 170 .. 190 deg, i.e. ending at -170 deg
    wrapped = np.angle(np.exp(1j * yaws))
    assert np.isclose(wrapped[-1], np.deg2rad(-170.0))
    assert np.abs(np.diff(wrapped)).max() > 6.0  # the stored yaws jump at +-180 deg
    centers = np.zeros((21, 3))
    assert suggest_keyframes(frames, centers, wrapped, method=method) == [0, 20]


def test_a_turn_past_180_degrees_needs_a_keyframe_in_between() -> None:
    """The short way from the first to the last heading goes the wrong way round: one middle key fixes it."""
    frames = np.arange(35)
    yaws = np.angle(np.exp(1j * np.deg2rad(10.0 * frames)))  # 340 deg in all, wrapped
    suggested = suggest_keyframes(frames, np.zeros((35, 3)), yaws, yaw_tol=0.01)
    assert 3 <= len(suggested) <= 4


def test_a_heading_flip_gets_keyframes_on_both_sides() -> None:
    frames = np.arange(30)
    centers = np.column_stack([0.8 * frames, np.zeros(30), np.zeros(30)])
    yaws = np.where(frames < 17, 0.02, 0.02 + np.pi)  # a detector's box turned round at frame 17
    suggested = suggest_keyframes(frames, centers, np.angle(np.exp(1j * yaws)))
    assert {16, 17} <= set(suggested)
    assert len(suggested) == 4


def test_tolerances_bound_a_real_sample_exactly(av2_gt: Scene) -> None:
    """Between the suggested keyframes each sample is within tolerance, and removing any middle keyframe
    breaks it (the pruning pass leaves none redundant)."""
    track = max(av2_gt.layer("ground_truth").tracks, key=lambda t: len(t.frames()))
    suggested = suggest_for_track(track)
    assert len(suggested) > 3
    for dropped in suggested[1:-1]:
        fewer = [f for f in suggested if f != dropped]
        center, yaw = worst_errors(track, fewer, "linear")
        assert center > DEFAULT_CENTER_TOL or yaw > DEFAULT_YAW_TOL


def test_keyframed_track_keeps_facts_but_drops_velocities(av2_tracker: Scene) -> None:
    track = next(t for t in av2_tracker.layer("auto:tracker").tracks if len(t.frames()) > 20)
    first = track.first_frame
    assert "velocity_m_per_s" in track.frame_attributes[first]
    rekeyed = keyframed_track(track, [first, track.last_frame])
    assert "velocity_m_per_s" not in rekeyed.frame_attributes[first]
    assert rekeyed.frame_attributes[first]["score"] == track.frame_attributes[first]["score"]
    assert (rekeyed.first_frame, rekeyed.last_frame, rekeyed.label) == (first, track.last_frame, track.label)
    with pytest.raises(ValueError, match="no shape at keyframes"):
        keyframed_track(track, [first, track.last_frame + 1])


def test_bad_trajectories_raise() -> None:
    frames, centers, yaws = np.arange(5), np.zeros((5, 3)), np.zeros(5)
    with pytest.raises(ValueError, match="strictly ascending"):
        suggest_keyframes(frames[::-1], centers, yaws)
    with pytest.raises(ValueError, match="need 5 centres"):
        suggest_keyframes(frames, centers[:4], yaws)
    with pytest.raises(ValueError, match="tolerances must be positive"):
        suggest_keyframes(frames, centers, yaws, center_tol=0.0)
    bad = centers.copy()
    bad[2, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        suggest_keyframes(frames, bad, yaws)
    assert suggest_keyframes([3], [[1.0, 2.0, 0.0]], [0.5]) == [3]


def fewest_linear_keyframes(shapes: TrackShapes, center_tol: float, yaw_tol: float) -> int:
    """The true minimum by exhaustive search: shortest path over every straight segment that is in tolerance."""
    frames, centers, quats = shapes.frames, shapes.cuboids.centers, shapes.cuboids.quats_xyzw
    best = [1] + [len(frames) + 1] * (len(frames) - 1)
    for j in range(1, len(frames)):
        for i in range(j):
            if best[i] + 1 < best[j]:
                part = slice(i, j + 1)
                center, yaw = interpolation_errors(
                    frames[part], centers[part], quats[part], np.array([0, j - i])
                )
                if center.max() <= center_tol and yaw.max() <= yaw_tol:
                    best[j] = best[i] + 1
    return best[-1]


def test_linear_suggestions_are_close_to_the_true_minimum(kitti_0001: Scene, av2_gt: Scene) -> None:
    tracks = [
        t
        for t in kitti_0001.layer("ground_truth").tracks + av2_gt.layer("ground_truth").tracks
        if 15 <= len(t.frames()) <= 40
    ][::2]
    suggested = minimum = 0
    for track in tracks:
        shapes = interpolate_scene_tracks([track], track.last_frame + 1)[0]
        fewest = fewest_linear_keyframes(shapes, DEFAULT_CENTER_TOL, DEFAULT_YAW_TOL)
        count = len(suggest_for_track(track))
        assert count >= fewest, f"track {track.track_id}: {count} keyframes, fewer than the minimum {fewest}"
        suggested, minimum = suggested + count, minimum + fewest
    assert len(tracks) >= 10
    assert suggested <= 1.1 * minimum, f"{suggested} keyframes where {minimum} suffice"
