"""Is an object stationary? A verdict from its world-frame trajectory, robust to pose and detection noise.

Evidence: the track's detections are split, in time order, into up to four groups. Each group is
summarised by its median ground-plane centre (robust to outlier detections); the displacement
between two groups is the motion evidence, the time between their median times its baseline.

Visual odometry (e.g. KITTI's ORB-SLAM poses) gets the scale of the ego motion slightly wrong, so a
parked car's world position slides along with the ego by a few percent of the ego's own displacement
(measured on KITTI: 1-5 %, almost exactly parallel to the ego's travel). Before comparing groups the
part of the object's displacement explained by ``alpha`` times the ego's displacement over the same
groups, ``|alpha| <= scale_drift``, is removed (``scale_drift = 0`` for exact poses).

Decision (the statistics are in ``motion_evidence``): two hypotheses for the true displacement
``rho`` between two groups, observed with Gaussian noise of ``sigma`` per axis, so that the observed
length follows a Rice distribution:

* still: ``rho`` is a wander uniform in a disc of radius ``pose_noise_m`` (what a parked object's
  world box does under imperfect poses and box estimates);
* moving: ``rho = speed * baseline`` with a log-uniform speed prior on
  [``min_speed_mps``, ``max_speed_mps``] (a walker, a creeping car, traffic).

``sigma`` comes from the data: the median absolute deviation of the frame-to-frame centre steps
(insensitive to steady motion and to outliers), floored at ``detection_noise_m``, scaled for the
medians of the two groups. ``classify_layer`` raises that floor to the layer's typical noise (the
median of its longer tracks' estimates), since a track of three detections cannot measure its own.
Bayes' rule with ``prior_stationary`` gives ``p_stationary`` for each pair of groups. The first and
the last group decide (the longest baseline), unless another pair shows motion clearly
(``p_stationary < excursion_p``: a person who walks away and comes back). A car that waits and then
drives off is moving either way. ``confidence`` is the posterior probability of the verdict
(>= 0.5): it grows with the ratio of the displacement to the noise model, with the number of
detections and with the baseline; one detection gives no evidence (``p_stationary`` = the prior, and
the verdict is "moving", the keyframed default). It is calibrated only as far as the two hypotheses
describe the data; benchmarks/bench_automation_stationary.py reports observed frequencies per bin.
Measured on all shared KITTI and Argoverse 2 data: with simulated detections the 0.5-0.9 bins are
still 75-90 % of the time against 61-84 % predicted (a little under-confident); on real tracker layers
the tracks called moving with p < 0.1 are still 6 % (KITTI) and 20 % (Argoverse 2, short 2 Hz tracks
that jump between objects) of the time.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelpilot.automation.motion_evidence import (
    MEDIAN_EFFICIENCY,
    frame_noise,
    p_still,
    robust_heading,
    trimmed_mean,
)
from labelpilot.geometry import Pose
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Keyframed, Stationary, Track, world_shapes

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class StationarySettings:
    """The less often changed knobs of the classifier (the pose-noise ones are arguments)."""

    detection_noise_m: float = 0.05
    """Floor on the per-frame centre noise (per axis); PointRCNN on KITTI measures about 0.07 m."""
    min_speed_mps: float = 0.2
    max_speed_mps: float = 30.0
    prior_stationary: float = 0.5
    frame_period_s: float = 0.1
    """Seconds per frame when no times are given."""
    groups: int = 4
    trim: float = 0.2
    """Fraction cut from each end for the trimmed-mean centre of a stationary object."""
    excursion_p: float = 0.01
    """A group pair other than first-to-last decides only when its p_stationary is below this."""

    def __post_init__(self) -> None:
        if not 0.0 < self.min_speed_mps < self.max_speed_mps:
            raise ValueError("need 0 < min_speed_mps < max_speed_mps")
        if not 0.0 < self.prior_stationary < 1.0 or self.detection_noise_m <= 0.0 or self.groups < 2:
            raise ValueError("prior_stationary must be in (0, 1), detection_noise_m > 0, groups >= 2")


DEFAULT_SETTINGS = StationarySettings()


@dataclass(frozen=True, eq=False)
class MotionVerdict:
    """Whether a track is stationary, how sure, and the numbers the verdict rests on.

    ``world_pose`` is set when ``stationary``: the trimmed mean (``trim``) of the centres (the middle of any
    pose drift) with the flip-robust heading of ``robust_heading``; ``size`` is the per-axis
    median of the detected sizes when sizes were given. Distances are ground-plane metres:
    ``net_displacement_m`` from the first to the last group of detections as observed,
    ``displacement_m`` the deciding group pair's displacement after removing the pose scale drift
    (``scale_drift`` is the fraction of the ego's displacement that was removed), ``speed_mps`` that
    displacement over its baseline, ``spread_m`` the 90th percentile distance of the (drift-corrected)
    centres from their robust centre, ``noise_m`` the displacement noise (per axis) used.
    """

    stationary: bool
    confidence: float
    p_stationary: float
    world_pose: Pose | None
    size: FloatArray | None
    detections: int
    duration_s: float
    net_displacement_m: float
    displacement_m: float
    speed_mps: float
    spread_m: float
    noise_m: float
    scale_drift: float
    reason: str


@dataclass(frozen=True, eq=False)
class _Observations:
    """Validated detections in time order; ``ego_xy`` is zero when no ego positions were given."""

    times: FloatArray
    centers: FloatArray
    yaws: FloatArray
    sizes: FloatArray | None
    ego_xy: FloatArray


def _observations(
    frames: ArrayLike,
    centers: ArrayLike,
    yaws: ArrayLike,
    sizes: ArrayLike | None,
    times_s: ArrayLike | None,
    ego_positions: ArrayLike | None,
    frame_period_s: float,
) -> _Observations:
    f = np.asarray(frames, dtype=np.int64).reshape(-1)
    c = np.asarray(centers, dtype=np.float64)
    y = np.asarray(yaws, dtype=np.float64).reshape(-1)
    n = len(f)
    if n == 0:
        raise ValueError("classify_motion needs at least one detection")
    if c.shape != (n, 3) or y.shape != (n,):
        raise ValueError(f"{n} frames need (N, 3) centres and (N,) yaws, got {c.shape} and {y.shape}")
    s = None if sizes is None else np.asarray(sizes, dtype=np.float64)
    t = np.asarray(f * frame_period_s if times_s is None else times_s, dtype=np.float64).reshape(-1)
    e = np.zeros((n, 3)) if ego_positions is None else np.asarray(ego_positions, dtype=np.float64)
    if (s is not None and s.shape != (n, 3)) or t.shape != (n,) or e.shape != (n, 3):
        raise ValueError("sizes must be (N, 3), times_s (N,) and ego_positions (N, 3)")
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(y)) and np.all(np.isfinite(t))):
        raise ValueError("centres, yaws and times must be finite")
    order = np.argsort(t, kind="stable")
    return _Observations(t[order], c[order], y[order], None if s is None else s[order], e[order, :2])


@dataclass(frozen=True)
class _Decision:
    p_stationary: float
    displacement_m: float
    baseline_s: float
    noise_m: float


def _decide(
    corrected: FloatArray,
    times: FloatArray,
    sigma: FloatArray,
    pose_noise_m: float,
    settings: StationarySettings,
) -> _Decision:
    """Compare every pair of groups (corrected medians, median times, noise); see the module doc."""
    pairs = np.array(list(itertools.combinations(range(len(corrected)), 2)))
    distances = np.linalg.norm(corrected[pairs[:, 1]] - corrected[pairs[:, 0]], axis=1)
    sigmas = np.hypot(sigma[pairs[:, 0]], sigma[pairs[:, 1]])
    baselines = np.maximum(times[pairs[:, 1]] - times[pairs[:, 0]], 0.0)
    p_pairs = p_still(
        distances,
        sigmas,
        baselines,
        pose_noise_m,
        (settings.min_speed_mps, settings.max_speed_mps),
        settings.prior_stationary,
    )
    # First to last group decides; another pair only when it shows motion clearly (an excursion).
    k = int(np.argmin(p_pairs))
    if p_pairs[k] >= settings.excursion_p:
        k = int(np.flatnonzero((pairs[:, 0] == 0) & (pairs[:, 1] == len(corrected) - 1))[0])
    return _Decision(float(p_pairs[k]), float(distances[k]), float(baselines[k]), float(sigmas[k]))


def classify_motion(
    frames: ArrayLike,
    centers: ArrayLike,
    yaws: ArrayLike,
    sizes: ArrayLike | None = None,
    *,
    pose_noise_m: float = 0.5,
    scale_drift: float = 0.06,
    times_s: ArrayLike | None = None,
    ego_positions: ArrayLike | None = None,
    settings: StationarySettings = DEFAULT_SETTINGS,
) -> MotionVerdict:
    """Classify one object's detections (world frame) as stationary or moving.

    ``frames`` (N,), ``centers`` (N, 3), ``yaws`` (N,), ``sizes`` (N, 3) or None describe one
    detection each; ``times_s`` (N,) their times (default: frame * ``settings.frame_period_s``) and
    ``ego_positions`` (N, 3) the ego's world position at each (needed to remove the scale drift of
    visual-odometry poses). Use ``pose_noise_m`` about 0.5 and ``scale_drift`` 0.06 for visual
    odometry, ``scale_drift=0`` for exact poses. See the module doc.
    """
    obs = _observations(frames, centers, yaws, sizes, times_s, ego_positions, settings.frame_period_s)
    n = len(obs.times)
    xy = obs.centers[:, :2]
    groups = np.array_split(np.arange(n), min(settings.groups, n))
    # Per group: median of x, y, ego x, ego y and time in one pass.
    stacked = np.column_stack([xy, obs.ego_xy, obs.times])
    summaries = np.stack([np.median(stacked[g], axis=0) for g in groups])
    medians, ego_medians, group_times = summaries[:, :2], summaries[:, 2:4], summaries[:, 4]

    # The share of the object's displacement that the ego's own displacement explains (VO scale error).
    shift, ego_shift = medians[-1] - medians[0], ego_medians[-1] - ego_medians[0]
    alpha = 0.0
    if scale_drift > 0.0 and float(ego_shift @ ego_shift) > 1e-12:
        alpha = float(
            np.clip(float(shift @ ego_shift) / float(ego_shift @ ego_shift), -scale_drift, scale_drift)
        )
    corrected_xy = xy - alpha * obs.ego_xy

    sigma_frame = frame_noise(corrected_xy, settings.detection_noise_m)
    counts = np.array([len(g) for g in groups], dtype=np.float64)
    group_sigma = sigma_frame * np.where(counts >= 3, MEDIAN_EFFICIENCY, 1.0) / np.sqrt(counts)
    if n == 1:
        decision = _Decision(settings.prior_stationary, 0.0, 0.0, float(group_sigma[0]))
        reason = "a single detection: no motion evidence"
    else:
        decision = _decide(medians - alpha * ego_medians, group_times, group_sigma, pose_noise_m, settings)
        speed = decision.displacement_m / decision.baseline_s if decision.baseline_s > 0 else 0.0
        reason = (
            f"moved {decision.displacement_m:.2f} m in {decision.baseline_s:.1f} s ({speed:.2f} m/s); "
            f"noise {decision.noise_m:.2f} m, pose wander up to {pose_noise_m:.2f} m"
        )
        if alpha != 0.0:
            reason += f", {abs(alpha) * 100:.1f} % of the ego's travel removed as pose drift"

    trimmed = trimmed_mean(np.column_stack([obs.centers, obs.ego_xy]), settings.trim)
    center_xy_corrected = trimmed[:2] - alpha * trimmed[3:5]
    p = decision.p_stationary
    stationary = p > 0.5
    return MotionVerdict(
        stationary=stationary,
        confidence=max(p, 1.0 - p),
        p_stationary=p,
        world_pose=Pose.from_yaw(robust_heading(obs.yaws), trimmed[:3]) if stationary else None,
        size=None if obs.sizes is None else np.median(obs.sizes, axis=0),
        detections=n,
        duration_s=float(obs.times[-1] - obs.times[0]),
        net_displacement_m=float(np.linalg.norm(shift)),
        displacement_m=decision.displacement_m,
        speed_mps=decision.displacement_m / decision.baseline_s if decision.baseline_s > 0 else 0.0,
        spread_m=float(np.percentile(np.linalg.norm(corrected_xy - center_xy_corrected, axis=1), 90)),
        noise_m=decision.noise_m,
        scale_drift=alpha,
        reason=reason,
    )


def _track_observations(track: Track) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
    """Frames, centres, yaws and sizes to judge a keyframed track by.

    Candidate tracks keep their raw detections in ``frame_attributes`` (``det_center``, ``det_yaw``,
    ``det_size``); those are the evidence when present, since smoothed keyframes hide the noise.
    Otherwise the keyframes (the source's own per-frame boxes for imported tracks).
    """
    detected = [
        f
        for f, attrs in sorted(track.frame_attributes.items())
        if "det_center" in attrs and "det_yaw" in attrs
    ]
    if detected:
        rows = [track.frame_attributes[f] for f in detected]
        centers = np.array([np.asarray(r["det_center"], dtype=np.float64) for r in rows])
        yaws = np.array([float(np.asarray(r["det_yaw"])) for r in rows])
        sizes = np.array([np.asarray(r.get("det_size", track.size), dtype=np.float64) for r in rows])
        return np.asarray(detected, dtype=np.int64), centers, yaws, sizes
    motion = track.motion
    if isinstance(motion, Keyframed):
        frames = [f for f in motion.keyframes if track.has_shape(f)]
        if frames:
            # Keyframes are the observations themselves: read them without interpolating.
            poses = [motion.keyframes[f] for f in frames]
            centers = np.array([p.translation for p in poses])
            yaws = np.array([p.yaw for p in poses])
            return (
                np.asarray(frames, dtype=np.int64),
                centers,
                yaws,
                np.repeat(track.size[None], len(frames), 0),
            )
    shapes = world_shapes(track)
    return shapes.frames, shapes.cuboids.centers, shapes.cuboids.yaws, shapes.cuboids.sizes


def _observation_count(track: Track) -> int:
    """How many observations ``_track_observations`` would return, without building them."""
    detected = sum(
        1 for attrs in track.frame_attributes.values() if "det_center" in attrs and "det_yaw" in attrs
    )
    if detected:
        return detected
    if isinstance(track.motion, Keyframed):
        return sum(1 for f in track.motion.keyframes if track.has_shape(f)) or len(track.frames())
    return len(track.frames())


def classify_track(
    track: Track,
    *,
    frame_times_s: ArrayLike | None = None,
    ego_positions: ArrayLike | None = None,
    pose_noise_m: float = 0.5,
    scale_drift: float = 0.06,
    settings: StationarySettings = DEFAULT_SETTINGS,
) -> MotionVerdict:
    """Classify a track; ``frame_times_s`` (num_frames,) and ``ego_positions`` (num_frames, 3) are per scene frame.

    A track that already is ``Stationary`` is reported as such with its pose and size (confidence 1).
    """
    if isinstance(track.motion, Stationary):
        return MotionVerdict(
            stationary=True, confidence=1.0, p_stationary=1.0, world_pose=track.motion.world_pose,
            size=track.size.copy(), detections=len(track.frames()), duration_s=0.0, net_displacement_m=0.0,
            displacement_m=0.0, speed_mps=0.0, spread_m=0.0, noise_m=0.0, scale_drift=0.0,
            reason="the track is already stationary",
        )  # fmt: skip
    frames, centers, yaws, sizes = _track_observations(track)
    times = None if frame_times_s is None else np.asarray(frame_times_s, dtype=np.float64)[frames]
    ego = None if ego_positions is None else np.asarray(ego_positions, dtype=np.float64)[frames]
    return classify_motion(
        frames, centers, yaws, sizes, pose_noise_m=pose_noise_m, scale_drift=scale_drift,
        times_s=times, ego_positions=ego, settings=settings,
    )  # fmt: skip


def scene_frame_times(scene: Scene, frame_period_s: float = DEFAULT_SETTINGS.frame_period_s) -> FloatArray:
    """Seconds of every frame from the timestamps; frame index times the period when they do not increase."""
    stamps = np.array(scene.timestamps_us, dtype=np.int64)
    if len(stamps) > 1 and np.all(np.diff(stamps) > 0):
        return np.asarray((stamps - stamps[0]) / 1e6, dtype=np.float64)
    return np.arange(len(stamps), dtype=np.float64) * frame_period_s


def layer_noise(tracks: Iterable[Track], min_observations: int = 6, min_tracks: int = 3) -> float | None:
    """The typical per-frame centre noise of a source: the median of its tracks' own estimates.

    Short tracks cannot estimate their noise, so ``classify_layer`` uses this as their floor (a
    tracker that jitters by 0.1 m jitters on its three-frame tracks too). Only tracks with at least
    ``min_observations`` observations count; None when fewer than ``min_tracks`` have that many.
    """
    estimates = []
    for track in tracks:
        if isinstance(track.motion, Stationary) or _observation_count(track) < min_observations:
            continue
        frames, centers, _, _ = _track_observations(track)
        if len(frames) >= min_observations:
            estimates.append(frame_noise(centers[np.argsort(frames, kind="stable"), :2], 0.0))
    return float(np.median(estimates)) if len(estimates) >= min_tracks else None


def classify_layer(
    scene: Scene,
    layer: AnnotationLayer | str,
    *,
    pose_noise_m: float = 0.5,
    scale_drift: float = 0.06,
    settings: StationarySettings = DEFAULT_SETTINGS,
) -> dict[str, MotionVerdict]:
    """A verdict for every track of ``layer`` (a layer of ``scene`` or its name), keyed by track id.

    Reads only that layer and the scene's frame times and ego poses.
    """
    tracks = scene.layer(layer) if isinstance(layer, str) else layer
    noise = layer_noise(tracks)
    if noise is not None and noise > settings.detection_noise_m:
        settings = replace(settings, detection_noise_m=noise)
    times = scene_frame_times(scene, settings.frame_period_s)
    ego = scene.world_T_ego_array()[:, :3, 3]
    kwargs = {"pose_noise_m": pose_noise_m, "scale_drift": scale_drift}
    return {
        t.track_id: classify_track(t, frame_times_s=times, ego_positions=ego, settings=settings, **kwargs)
        for t in tracks
    }
