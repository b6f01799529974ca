"""A synthetic street with known tracks, and a detector's noisy view of it (tests and benchmarks).

Objects: parked cars, cars driving along gentle curves and walking pedestrians, each alive for a
random part of the drive so that about ``objects_per_frame`` exist at any time. The detector sees each
object with probability ``detect_rate`` per frame, with centre noise, occasional 180-degree heading
flips, and adds ``false_per_frame`` false positives (weaker scores, Poisson count) per frame. Scores
are logits like PointRCNN's: objects around 6, false positives around 0. The ego drives at 10 m/s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labelpilot.geometry import Pose
from labelpilot.scenes import Frame, Scene
from labelpilot.tracks import AnnotationLayer, Provenance, Track, TrackStatus

FloatArray = NDArray[np.float64]
CAR_SIZE = np.array([4.5, 1.9, 1.6])
PEDESTRIAN_SIZE = np.array([0.7, 0.7, 1.75])


@dataclass(frozen=True)
class TrafficSpec:
    frames: int = 1000
    objects_per_frame: int = 66
    false_per_frame: float = 5.0
    detect_rate: float = 0.9
    center_noise_m: float = 0.2
    flip_rate: float = 0.03
    period_us: int = 100_000
    seed: int = 7


@dataclass(frozen=True, eq=False)
class _Object:
    label: str
    first: int
    positions: FloatArray  # (life, 3) world centres
    yaws: FloatArray  # (life,)


def _objects(spec: TrafficSpec, rng: np.random.Generator) -> list[_Object]:
    mean_life = min(spec.frames, 300)
    count = max(1, round(spec.objects_per_frame * spec.frames / mean_life))
    objects = []
    for _ in range(count):
        life = int(np.clip(rng.exponential(mean_life), 10, spec.frames))
        first = int(rng.integers(-life + 10, spec.frames - 10))
        life = min(life, spec.frames - max(first, 0))
        first = max(first, 0)
        kind = rng.choice(["parked", "driving", "walking"], p=[0.55, 0.3, 0.15])
        # Near where the ego (10 m/s along x) is when the object appears: a dense street around it.
        ego_x = first * spec.period_us / 1e5
        start = np.array([ego_x + rng.uniform(-30.0, 60.0), rng.uniform(-25.0, 25.0), 0.8])
        heading = rng.uniform(-np.pi, np.pi)
        t = np.arange(life) * spec.period_us / 1e6
        speed = {"parked": 0.0, "driving": rng.uniform(5, 15), "walking": rng.uniform(0.8, 1.6)}[kind]
        turn = rng.normal(0.0, 0.05) if kind != "parked" else 0.0  # rad/s
        yaws = heading + turn * t
        step = speed * spec.period_us / 1e6
        xy = start[:2] + np.cumsum(np.column_stack([np.cos(yaws), np.sin(yaws)]) * step, axis=0)
        positions = np.column_stack([xy, np.full(life, start[2])])
        objects.append(_Object("Pedestrian" if kind == "walking" else "Car", first, positions, yaws))
    return objects


def _pose(center: FloatArray, yaw: float) -> Pose:
    return Pose.from_yaw(float(yaw), center)


def traffic_scene(spec: TrafficSpec = TrafficSpec()) -> Scene:
    """A scene with layers ``ground_truth`` (the objects) and ``auto:synthetic`` (one-frame detections)."""
    rng = np.random.default_rng(spec.seed)
    frames = [
        Frame(i, i * spec.period_us, Pose.from_yaw(0.0, [i * spec.period_us / 1e5, 0.0, 0.0]))
        for i in range(spec.frames)
    ]
    truth: list[Track] = []
    detections: list[Track] = []
    for n, obj in enumerate(_objects(spec, rng)):
        size = CAR_SIZE if obj.label == "Car" else PEDESTRIAN_SIZE
        keyframes = {
            obj.first + i: _pose(p, y) for i, (p, y) in enumerate(zip(obj.positions, obj.yaws, strict=True))
        }
        truth.append(
            Track.keyframed(f"gt-{n}", obj.label, size, keyframes, provenance=Provenance("imported"))
        )
        seen = rng.uniform(0, 1, len(obj.yaws)) < spec.detect_rate
        for i in np.flatnonzero(seen).tolist():
            center = obj.positions[i] + rng.normal(0.0, spec.center_noise_m, 3) * [1.0, 1.0, 0.3]
            yaw = obj.yaws[i] + rng.normal(0.0, 0.05) + (np.pi if rng.uniform() < spec.flip_rate else 0.0)
            score = float(rng.normal(6.0, 2.0))
            detections.append(_detection(len(detections), obj.label, size, obj.first + i, center, yaw, score))
    for frame in range(spec.frames):
        for _ in range(int(rng.poisson(spec.false_per_frame))):
            ego_x = frame * spec.period_us / 1e5
            center = np.array([ego_x + rng.uniform(-30.0, 60.0), rng.uniform(-25.0, 25.0), 0.8])
            label = "Car" if rng.uniform() < 0.7 else "Pedestrian"
            size = CAR_SIZE if label == "Car" else PEDESTRIAN_SIZE
            score = float(rng.normal(0.0, 1.0))
            detections.append(
                _detection(len(detections), label, size, frame, center, rng.uniform(-3, 3), score)
            )
    scene = Scene("synthetic-traffic", frames, source_format="synthetic")
    scene.add_layer(AnnotationLayer("ground_truth", truth))
    scene.add_layer(AnnotationLayer("auto:synthetic", detections))
    return scene


def _detection(
    n: int, label: str, size: FloatArray, frame: int, center: FloatArray, yaw: float, score: float
) -> Track:
    track = Track.keyframed(
        f"det-{n}",
        label,
        size,
        {frame: _pose(center, yaw)},
        provenance=Provenance("candidate", "synthetic"),
        status=TrackStatus.CANDIDATE,
        score=score,
    )
    track.frame_attributes[frame] = {"score": score}
    return track
