"""Measuring the stationary classifier against ground truth (tests and benchmarks only).

The classifier never sees this module: ground truth only decides what the right answer was.

**Truth rule** (what "stationary" means here), computed on a ground-truth track's world centres:

* ``D`` = median ground-plane centre of the last ``k`` frames minus that of the first ``k``
  (``k`` = 5, or a quarter of a short track, at least 1), ``T`` the time between those groups;
* visual-odometry drift: ``R = min |D - a * D_ego|`` over ``a`` in [0, ``max_drift``], where ``D_ego`` is
  the ego's displacement between the same groups. Exact poses (Argoverse 2): ``max_drift = 0``.
  KITTI's ORB-SLAM poses: ``max_drift = 0.06``, because still objects there slide forward by 1-5 % of
  the ego's travel, parallel to it (measured on every ground-truth track of the 11 sequences);
* ``spread`` = 90th percentile distance of the drift-corrected centres from their median;
* **stationary** iff (``R <= 0.5 m`` or ``R / T <= 0.2 m/s``) and ``spread <= 1.5 m``.

The speed clause keeps parked objects whose annotated centre wanders slowly (Argoverse 2 has parked
cars whose box centre moves 1-1.5 m over 15 s at 0.1 m/s with exact poses) stationary; the
distance clause keeps short tracks that move less than half a metre stationary (one box fits them).
So the KITTI rule is the looser one only through the drift allowance.

**Simulated detections** (``simulate_detections``) turn a ground-truth track into what a detector
would report, with noise measured from PointRCNN against KITTI ground-truth cars (score >= 2, 5601
matches in sequences 0001, 0004, 0009): centre error per axis about 0.05 m + 0.3 % of the range
(median error 0.06 m under 20 m, 0.14 m at 30-50 m), heavier tails as 3 % outliers 0.5-2 m off,
yaw error 0.03 rad with 2 % flipped by 180 degrees, size error 6 %, and 10 % of frames missed.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from labelpilot.automation.classes import ClassFamily, class_family
from labelpilot.automation.stationary import (
    DEFAULT_SETTINGS,
    MotionVerdict,
    StationarySettings,
    classify_motion,
    scene_frame_times,
)
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Keyframed, Track, world_shapes

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

KITTI_MAX_DRIFT = 0.06
TRUTH_DISTANCE_M = 0.5
TRUTH_SPEED_MPS = 0.2
TRUTH_SPREAD_M = 1.5
MATCH_DISTANCE_M = {ClassFamily.VEHICLE: 2.0}
"""Centre distance for matching an auto track to a ground-truth one; 1 m for the other families."""
MIN_OBSERVATIONS = 3
"""Tracks with fewer observations carry no motion evidence and are left out of precision and recall."""


@dataclass(frozen=True)
class Observations:
    """One track's boxes in the world frame, at the frames it was observed."""

    frames: IntArray
    centers: FloatArray
    yaws: FloatArray
    sizes: FloatArray


def ground_truth_observations(track: Track) -> Observations:
    shapes = world_shapes(track)
    return Observations(shapes.frames, shapes.cuboids.centers, shapes.cuboids.yaws, shapes.cuboids.sizes)


def truth_stationary(
    obs: Observations, times_s: FloatArray, ego_xy: FloatArray, max_drift: float, *, speed_clause: bool = True
) -> bool:
    """The truth rule of the module doc; ``times_s`` and ``ego_xy`` are per scene frame.

    ``speed_clause=False`` gives the strict variant (moved at most 0.5 m, whatever the speed).
    """
    n = len(obs.frames)
    if n < 2:
        return True
    k = max(1, min(5, n // 4))
    xy, ego, t = obs.centers[:, :2], ego_xy[obs.frames], times_s[obs.frames]
    d = np.median(xy[-k:], axis=0) - np.median(xy[:k], axis=0)
    d_ego = np.median(ego[-k:], axis=0) - np.median(ego[:k], axis=0)
    a = 0.0
    if max_drift > 0.0 and float(d_ego @ d_ego) > 1e-12:
        a = float(np.clip((d @ d_ego) / (d_ego @ d_ego), 0.0, max_drift))
    r = float(np.linalg.norm(d - a * d_ego))
    baseline = float(np.median(t[-k:]) - np.median(t[:k]))
    corrected = xy - a * ego
    spread = float(np.percentile(np.linalg.norm(corrected - np.median(corrected, axis=0), axis=1), 90))
    slow = r <= TRUTH_DISTANCE_M or (speed_clause and baseline > 0.0 and r / baseline <= TRUTH_SPEED_MPS)
    return slow and spread <= TRUTH_SPREAD_M


def layer_truth(
    scene: Scene, layer: AnnotationLayer, max_drift: float, *, speed_clause: bool = True
) -> dict[str, bool]:
    times = scene_frame_times(scene)
    ego_xy = scene.world_T_ego_array()[:, :2, 3]
    return {
        t.track_id: truth_stationary(
            ground_truth_observations(t), times, ego_xy, max_drift, speed_clause=speed_clause
        )
        for t in layer
    }


def simulate_detections(obs: Observations, ego_xyz: FloatArray, rng: np.random.Generator) -> Observations:
    """Detector-like observations of a ground-truth track (noise model in the module doc)."""
    n = len(obs.frames)
    keep = rng.random(n) >= 0.10
    keep[rng.integers(n)] = True
    frames, centers, yaws, sizes = obs.frames[keep], obs.centers[keep], obs.yaws[keep], obs.sizes[keep]
    m = len(frames)
    ranges = np.linalg.norm(centers[:, :2] - ego_xyz[frames, :2], axis=1)
    sigma = 0.05 + 0.003 * ranges
    noisy = centers + rng.normal(size=(m, 3)) * sigma[:, None] * np.array([1.0, 1.0, 0.5])
    outliers = rng.random(m) < 0.03
    angle = rng.uniform(-np.pi, np.pi, m)
    jump = rng.uniform(0.5, 2.0, m)
    noisy[outliers, 0] += (jump * np.cos(angle))[outliers]
    noisy[outliers, 1] += (jump * np.sin(angle))[outliers]
    noisy_yaws = yaws + rng.normal(scale=0.03, size=m) + np.where(rng.random(m) < 0.02, np.pi, 0.0)
    noisy_sizes = sizes * (1.0 + rng.normal(scale=0.06, size=(m, 3)))
    return Observations(frames, noisy, noisy_yaws, np.abs(noisy_sizes))


def simulated_verdicts(
    scene: Scene,
    rng: np.random.Generator,
    *,
    pose_noise_m: float = 0.5,
    scale_drift: float = 0.06,
    settings: StationarySettings = DEFAULT_SETTINGS,
) -> dict[str, MotionVerdict]:
    """Classify simulated detections of every ground-truth track (the classifier sees only those)."""
    times = scene_frame_times(scene)
    ego = scene.world_T_ego_array()[:, :3, 3]
    out = {}
    for track in scene.layer("ground_truth"):
        obs = simulate_detections(ground_truth_observations(track), ego, rng)
        out[track.track_id] = classify_motion(
            obs.frames, obs.centers, obs.yaws, obs.sizes, pose_noise_m=pose_noise_m, scale_drift=scale_drift,
            times_s=times[obs.frames], ego_positions=ego[obs.frames], settings=settings,
        )  # fmt: skip
    return out


def _keyframes(track: Track) -> list[int]:
    if isinstance(track.motion, Keyframed):
        return [f for f in track.motion.keyframes if track.has_shape(f)]
    return track.frames()


def match_to_truth(auto: AnnotationLayer, truth: AnnotationLayer) -> dict[str, str]:
    """Auto track id -> ground-truth track id, by centre distance at the auto track's keyframes.

    A ground-truth track is close at a frame when the centres are within its family's distance
    (``MATCH_DISTANCE_M``); the auto track takes the one it is close to most often, if that is at
    least half of its keyframes.
    """
    by_frame: dict[int, list[tuple[str, FloatArray, float]]] = defaultdict(list)
    for t in truth:
        limit = MATCH_DISTANCE_M.get(class_family(t.label), 1.0)
        shapes = world_shapes(t)
        for f, c in zip(shapes.frames.tolist(), shapes.cuboids.centers, strict=True):
            by_frame[f].append((t.track_id, c[:2], limit))
    matches: dict[str, str] = {}
    for track in auto:
        frames = _keyframes(track)
        shapes = world_shapes(track, frames)
        votes: dict[str, int] = defaultdict(int)
        for f, c in zip(shapes.frames.tolist(), shapes.cuboids.centers, strict=True):
            close = [(float(np.linalg.norm(c[:2] - gc)), gid) for gid, gc, lim in by_frame.get(f, []) if
                     np.linalg.norm(c[:2] - gc) <= lim]  # fmt: skip
            if close:
                votes[min(close)[1]] += 1
        if votes:
            best = max(votes, key=lambda gid: votes[gid])
            if votes[best] * 2 >= len(shapes):
                matches[track.track_id] = best
    return matches


def matched_truth(
    scene: Scene, auto: AnnotationLayer, max_drift: float, *, speed_clause: bool = True
) -> dict[str, bool]:
    """Auto track id -> whether its matched ground-truth track is stationary over the auto track's span.

    The span matters: a tracker may follow a pedestrian only while she waits at a crossing.
    """
    truth_layer = scene.layer("ground_truth")
    times = scene_frame_times(scene)
    ego_xy = scene.world_T_ego_array()[:, :2, 3]
    out: dict[str, bool] = {}
    for auto_id, truth_id in match_to_truth(auto, truth_layer).items():
        track = auto.track(auto_id)
        obs = ground_truth_observations(truth_layer.track(truth_id))
        inside = (obs.frames >= track.first_frame) & (obs.frames <= track.last_frame)
        span = Observations(obs.frames[inside], obs.centers[inside], obs.yaws[inside], obs.sizes[inside])
        out[auto_id] = truth_stationary(span, times, ego_xy, max_drift, speed_clause=speed_clause)
    return out


@dataclass
class Confusion:
    """Counts with "stationary" as the positive class, and (p_stationary, truth) pairs for calibration."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    pairs: list[tuple[float, bool]] = field(default_factory=list)

    def add(self, verdict: MotionVerdict, truth: bool) -> None:
        self.pairs.append((verdict.p_stationary, truth))
        if verdict.stationary:
            self.tp, self.fp = self.tp + truth, self.fp + (not truth)
        else:
            self.fn, self.tn = self.fn + truth, self.tn + (not truth)

    def merge(self, other: Confusion) -> None:
        self.tp, self.fp, self.fn, self.tn = (
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn,
        )  # fmt: skip
        self.pairs.extend(other.pairs)

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def moving_recall(self) -> float:
        """Share of truly moving tracks called moving."""
        return self.tn / (self.tn + self.fp) if self.tn + self.fp else float("nan")

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.total if self.total else float("nan")

    def calibration(
        self, edges: Iterable[float] = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
    ) -> list[tuple[str, int, float, float]]:
        """Per bin of p_stationary: label, count, mean predicted and observed stationary fraction."""
        bounds = list(edges)
        p = np.array([q for q, _ in self.pairs])
        truth = np.array([t for _, t in self.pairs], dtype=np.float64)
        rows = []
        for lo, hi in itertools.pairwise(bounds):
            inside = (p >= lo) & ((p < hi) if hi < 1.0 else (p <= hi))
            if inside.any():
                rows.append(
                    (
                        f"{lo:.1f}-{hi:.1f}",
                        int(inside.sum()),
                        float(p[inside].mean()),
                        float(truth[inside].mean()),
                    )
                )
        return rows


def score_verdicts(
    verdicts: Mapping[str, MotionVerdict], truth: Mapping[str, bool], min_observations: int = MIN_OBSERVATIONS
) -> Confusion:
    """Confusion of the verdicts whose track has a truth and enough observations."""
    out = Confusion()
    for track_id, verdict in verdicts.items():
        if track_id in truth and verdict.detections >= min_observations:
            out.add(verdict, truth[track_id])
    return out
