"""Stationary candidates as landmarks for the ego-pose correction: each one's detections in the ego frame.

A landmark is an object the product believes does not move (``stationary.classify_layer`` on candidate
tracks, never ground truth). What it observes is the detection itself, i.e. where the sensor saw the
object relative to the ego. Candidate tracks keep their raw detections in world coordinates
(``det_center``, placed through the scene's poses), so they are mapped back through the same raw poses
to recover the sensor's observation, which no pose error touches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labelpilot.automation.stationary import MotionVerdict, classify_layer
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Keyframed, Stationary, Track

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class LandmarkSettings:
    min_p_stationary: float = 0.9
    """Only candidates the classifier calls stationary with at least this posterior become landmarks."""
    min_observations: int = 5
    max_range_m: float = 40.0
    """Detections farther than this (ground-plane distance from the ego) are too noisy to use."""


@dataclass(frozen=True, eq=False)
class Landmark:
    """One stationary object's observations: frames (K,) and detected centres in the ego frame (K, 3)."""

    track_id: str
    label: str
    frames: IntArray
    ego_points: FloatArray


def _world_observations(track: Track) -> tuple[IntArray, FloatArray]:
    """The raw detected centres (world) of a candidate, else its keyframe or stationary centres."""
    detected = sorted(f for f, attrs in track.frame_attributes.items() if "det_center" in attrs)
    if detected:
        centers = [np.asarray(track.frame_attributes[f]["det_center"], dtype=np.float64) for f in detected]
        return np.asarray(detected, dtype=np.int64), np.array(centers)
    motion = track.motion
    if isinstance(motion, Keyframed):
        frames = [f for f in motion.keyframes if track.has_shape(f)]
        return np.asarray(frames, dtype=np.int64), np.array([motion.keyframes[f].translation for f in frames])
    assert isinstance(motion, Stationary)
    frames = track.frames()
    return np.asarray(frames, dtype=np.int64), np.repeat(motion.world_pose.translation[None], len(frames), 0)


def to_ego_points(world_T_ego: FloatArray, frames: IntArray, world_points: FloatArray) -> FloatArray:
    """World points observed at ``frames`` expressed in those frames' ego frames."""
    rot = world_T_ego[frames, :3, :3]
    offset = world_points - world_T_ego[frames, :3, 3]
    return np.asarray(np.einsum("nji,nj->ni", rot, offset), dtype=np.float64)


def to_world_points(world_T_ego: FloatArray, frames: IntArray, ego_points: FloatArray) -> FloatArray:
    rot = world_T_ego[frames, :3, :3]
    return np.asarray(np.einsum("nij,nj->ni", rot, ego_points) + world_T_ego[frames, :3, 3], dtype=np.float64)


def landmarks_from_candidates(
    scene: Scene,
    candidates: AnnotationLayer,
    *,
    verdicts: Mapping[str, MotionVerdict] | None = None,
    settings: LandmarkSettings = LandmarkSettings(),
) -> list[Landmark]:
    """The candidates of ``candidates`` judged stationary, as landmarks (see the module doc).

    ``verdicts`` (track id -> verdict) default to ``classify_layer`` with the visual-odometry settings,
    which tolerate the scale error that the correction is about to estimate.
    """
    judged = classify_layer(scene, candidates) if verdicts is None else verdicts
    world_T_ego = scene.world_T_ego_array()
    out: list[Landmark] = []
    for track in candidates.tracks:
        verdict = judged.get(track.track_id)
        if verdict is None or not verdict.stationary or verdict.p_stationary < settings.min_p_stationary:
            continue
        frames, world = _world_observations(track)
        ego = to_ego_points(world_T_ego, frames, world)
        near = np.hypot(ego[:, 0], ego[:, 1]) <= settings.max_range_m
        if int(near.sum()) >= settings.min_observations:
            out.append(Landmark(track.track_id, track.label, frames[near], ego[near]))
    return out
