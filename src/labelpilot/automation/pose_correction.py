"""Correct an estimated ego trajectory with stationary landmarks (robust least squares), never ground truth.

A parked car seen by the sensor at frames f1..fK must land on one world position when each detection
is mapped through its frame's ego pose. With visual-odometry poses it does not: it slides by a few
percent of the ego's travel (the scale error) and wanders with the slow drift. ``correct_poses`` finds
the ``pose_model`` correction (log-scale, yaw drift and translation drift, each a low-order polynomial
in time) and the landmarks' world positions that make every landmark's mapped detections agree:

* residual: corrected world position of a detection minus its landmark's position, in units of the
  detection noise (``noise_m`` plus ``noise_per_m`` per metre of range: far boxes are noisier);
* scipy ``least_squares`` with the ``soft_l1`` loss, so that a bad detection or an object that moves
  slowly but was called stationary pulls with bounded force; weak priors keep the drift terms small
  where the data do not ask for them (a scale error and a drift along a straight road look alike);
* inlier re-weighting: after each fit a landmark whose median residual exceeds ``outlier_sigma`` is
  taken to move (or to be a bad association) and the fit is repeated without it;
* model selection: a global scale first; the drift terms of ``settings.shape`` are kept only when they
  cut the landmarks' RMS spread by ``min_drift_gain`` or more (on the KITTI dev sequences a drift fitted
  to a few standing pedestrians costs more than it brings, see docs/benchmarks.md);
* no correction, with the reason, when too few landmarks remain, when the ego barely moved while they
  were seen (a scale cannot be observed without travel), when the fitted scale is implausible, or when
  the landmarks agree no better afterwards.

The result carries the corrected poses (the raw ones when not applied), the parameters, each
landmark's spread before and after, and the scene's disagreement (RMS distance of the landmarks'
world positions from their centres) that the editor can show as a notice.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares
from scipy.sparse import lil_matrix

from labelpilot.automation.pose_landmarks import Landmark, to_world_points
from labelpilot.automation.pose_model import CorrectionModel, ModelShape
from labelpilot.automation.stationary import scene_frame_times
from labelpilot.geometry import Pose
from labelpilot.scenes import Scene

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class PoseCorrectionSettings:
    shape: ModelShape = field(default_factory=ModelShape)
    min_landmarks: int = 3
    min_travel_m: float = 10.0
    """The ego must travel this far while landmarks are seen, else a scale cannot be estimated."""
    noise_m: float = 0.1
    noise_per_m: float = 0.004
    soft_l1_scale: float = 2.0
    """Residual (in noise units) where the soft_l1 loss turns from quadratic to linear."""
    outlier_sigma: float = 4.0
    max_rounds: int = 4
    scale_rate_prior: float = 0.05
    """Prior standard deviation of the higher log-scale coefficients (change of scale over the scene)."""
    yaw_prior_rad: float = 0.02
    drift_prior_m: float = 1.0
    max_scale_error: float = 0.2
    """A fitted mean scale further than this from 1 is not believed."""
    disagreement_m: float = 0.5
    """A landmark whose world positions spread (RMS) more than this disagrees with the poses."""
    min_drift_gain: float = 0.05
    """The drift terms are kept only when they cut the landmarks' RMS spread by this share or more."""


@dataclass(frozen=True)
class CorrectionParameters:
    """The fitted correction: which model was kept, the scale at the start and end of the landmark-covered
    span, the mean scale (corrected over raw path length), yaw and translation drift over the scene."""

    shape: ModelShape
    scale_start: float
    scale_end: float
    mean_scale: float
    yaw_drift_deg: float
    drift_m: tuple[float, float, float]
    coefficients: tuple[float, ...]


@dataclass(frozen=True)
class LandmarkFit:
    track_id: str
    label: str
    observations: int
    spread_before_m: float
    spread_after_m: float
    inlier: bool
    """False: rejected by the robust fit (it likely moves, or its detections belong to several objects)."""


@dataclass(frozen=True, eq=False)
class PoseCorrection:
    applied: bool
    reason: str
    poses: list[Pose]
    """Corrected world_T_ego per frame; the raw poses when the correction is not applied."""
    parameters: CorrectionParameters | None
    landmarks: list[LandmarkFit]
    disagreement_before_m: float
    """RMS distance of the inlier landmarks' world positions from their centres, raw poses."""
    disagreement_after_m: float
    disagreeing: list[str]
    """Landmarks that still spread more than ``disagreement_m`` through the returned poses."""
    seconds: float

    def notice(self, threshold_m: float = PoseCorrectionSettings.disagreement_m) -> str | None:
        """A sentence for the editor when poses and landmarks disagree, else None."""
        if self.disagreement_before_m <= threshold_m and not self.disagreeing:
            return None
        text = f"stationary landmarks spread {self.disagreement_before_m:.2f} m through the ego poses"
        if self.applied:
            text += f"; corrected poses bring that to {self.disagreement_after_m:.2f} m"
        else:
            text += f"; no correction ({self.reason})"
        if self.disagreeing:
            text += f"; {len(self.disagreeing)} landmark(s) still disagree"
        return text


@dataclass(frozen=True, eq=False)
class _Observations:
    """All landmarks' detections flattened: owner landmark, frame, ego point, noise."""

    owner: IntArray
    frames: IntArray
    ego: FloatArray
    sigma: FloatArray


def _flatten(landmarks: Sequence[Landmark], settings: PoseCorrectionSettings) -> _Observations:
    owner = np.concatenate([np.full(len(lm.frames), i, np.int64) for i, lm in enumerate(landmarks)])
    ego = np.concatenate([lm.ego_points for lm in landmarks])
    sigma = settings.noise_m + settings.noise_per_m * np.hypot(ego[:, 0], ego[:, 1])
    return _Observations(owner, np.concatenate([lm.frames for lm in landmarks]), ego, sigma)


def _spreads(world: FloatArray, owner: IntArray, count: int) -> tuple[FloatArray, FloatArray]:
    """Per landmark: RMS distance of its points from their median, and each point's squared distance."""
    squared = np.zeros(len(world))
    rms = np.zeros(count)
    for i in range(count):
        rows = owner == i
        d2 = np.sum((world[rows] - np.median(world[rows], axis=0)) ** 2, axis=1)
        squared[rows] = d2
        rms[i] = float(np.sqrt(d2.mean()))
    return rms, squared


def _matrices(rotations: FloatArray, translations: FloatArray) -> FloatArray:
    m = np.zeros((len(rotations), 4, 4))
    m[:, :3, :3], m[:, :3, 3], m[:, 3, 3] = rotations, translations, 1.0
    return m


class _Problem:
    """The least-squares problem for one set of landmarks (the inliers of a round)."""

    def __init__(
        self,
        model: CorrectionModel,
        obs: _Observations,
        keep: NDArray[np.bool_],
        settings: PoseCorrectionSettings,
    ) -> None:
        self.model, self.settings = model, settings
        self.landmark_ids = np.flatnonzero(np.bincount(obs.owner[keep], minlength=int(obs.owner.max()) + 1))
        index = np.full(int(obs.owner.max()) + 1, -1, np.int64)
        index[self.landmark_ids] = np.arange(len(self.landmark_ids))
        self.owner = index[obs.owner[keep]]
        self.frames, self.ego, self.weight = obs.frames[keep], obs.ego[keep], 1.0 / obs.sigma[keep]
        shape = model.shape
        self.prior_sd = np.concatenate(
            [
                [np.inf],  # the global scale is free
                np.full(shape.scale_degree, settings.scale_rate_prior),
                np.full(shape.yaw_degree, settings.yaw_prior_rad),
                np.full(3 * shape.drift_degree, settings.drift_prior_m),
            ]
        )

    def world(self, params: FloatArray) -> FloatArray:
        rotations, translations = self.model.corrected(params[: self.model.shape.size])
        return to_world_points(_matrices(rotations, translations), self.frames, self.ego)

    def residuals(self, x: FloatArray) -> FloatArray:
        size = self.model.shape.size
        positions = x[size:].reshape(-1, 3)
        misfit = (self.world(x[:size]) - positions[self.owner]) * self.weight[:, None]
        return np.concatenate([misfit.reshape(-1), x[:size] / self.prior_sd])

    def sparsity(self) -> lil_matrix:
        size, n = self.model.shape.size, len(self.frames)
        pattern = lil_matrix((3 * n + size, size + 3 * len(self.landmark_ids)), dtype=np.int8)
        pattern[: 3 * n, :size] = 1
        for axis in range(3):
            pattern[np.arange(n) * 3 + axis, size + self.owner * 3 + axis] = 1
        pattern[3 * n + np.arange(size), np.arange(size)] = 1
        return pattern

    def solve(self, start: FloatArray) -> FloatArray:
        size = self.model.shape.size
        positions = [
            np.median(self.world(start)[self.owner == i], axis=0) for i in range(len(self.landmark_ids))
        ]
        x0 = np.concatenate([start, np.concatenate(positions)])
        fit = least_squares(
            self.residuals,
            x0,
            jac_sparsity=self.sparsity(),
            loss="soft_l1",
            f_scale=self.settings.soft_l1_scale,
            method="trf",
            x_scale="jac",
        )
        return np.asarray(fit.x[:size], dtype=np.float64)


def _not_applied(
    scene: Scene,
    reason: str,
    fits: list[LandmarkFit],
    before: float,
    settings: PoseCorrectionSettings,
    started: float,
) -> PoseCorrection:
    disagreeing = [f.track_id for f in fits if f.spread_before_m > settings.disagreement_m]
    poses = [f.world_T_ego for f in scene.frames]
    seconds = time.perf_counter() - started
    return PoseCorrection(False, reason, poses, None, fits, before, before, disagreeing, seconds)


def _path_length(translations: FloatArray, first: int, last: int) -> float:
    return float(np.linalg.norm(np.diff(translations[first : last + 1], axis=0), axis=1).sum())


@dataclass(frozen=True, eq=False)
class _Fit:
    """One model fitted with inlier re-weighting: its parameters, inliers and per-landmark spreads."""

    model: CorrectionModel
    params: FloatArray
    inliers: NDArray[np.bool_]
    spread: FloatArray
    squared: FloatArray
    """Each observation's squared distance from its landmark's centre through the corrected poses."""

    def rms(self, owner: IntArray) -> float:
        kept = self.inliers[owner]
        return float(np.sqrt(self.squared[kept].mean())) if kept.any() else float("inf")


def _fit(
    model: CorrectionModel, obs: _Observations, start: FloatArray, settings: PoseCorrectionSettings
) -> _Fit:
    """Fit ``model``; after each fit drop landmarks whose median residual exceeds ``outlier_sigma``."""
    count = int(obs.owner.max()) + 1
    params, inliers = start, np.ones(count, dtype=bool)
    for _ in range(settings.max_rounds):
        if int(inliers.sum()) < settings.min_landmarks:
            break
        params = _Problem(model, obs, inliers[obs.owner], settings).solve(params)
        world = to_world_points(_matrices(*model.corrected(params)), obs.frames, obs.ego)
        normalised = np.sqrt(_spreads(world, obs.owner, count)[1]) / obs.sigma
        median = np.array([np.median(normalised[obs.owner == i]) for i in range(count)])
        updated = median <= settings.outlier_sigma
        if np.array_equal(updated, inliers):
            break
        inliers = updated
    world = to_world_points(_matrices(*model.corrected(params)), obs.frames, obs.ego)
    spread, squared = _spreads(world, obs.owner, count)
    return _Fit(model, params, inliers, spread, squared)


def _parameters(fit: _Fit, first: int, last: int, travel: float) -> CorrectionParameters:
    model, params = fit.model, fit.params
    ends = model.u[[first, last]]
    whole = model.u[[0, -1]]
    yaw = model.yaw_at(params, whole)
    drift = model.drift_at(params, whole)
    corrected = model.corrected(params)[1]
    return CorrectionParameters(
        shape=model.shape,
        scale_start=float(model.scale_at(params, ends)[0]),
        scale_end=float(model.scale_at(params, ends)[1]),
        mean_scale=_path_length(corrected, first, last) / travel,
        yaw_drift_deg=float(np.degrees(yaw[1] - yaw[0])),
        drift_m=(
            float(drift[1, 0] - drift[0, 0]),
            float(drift[1, 1] - drift[0, 1]),
            float(drift[1, 2] - drift[0, 2]),
        ),
        coefficients=tuple(float(v) for v in params),
    )


def correct_poses(
    scene: Scene, landmarks: Sequence[Landmark], settings: PoseCorrectionSettings = PoseCorrectionSettings()
) -> PoseCorrection:
    """Estimate and apply the ego-trajectory correction that makes ``landmarks`` stand still (module doc)."""
    started = time.perf_counter()
    raw = scene.world_T_ego_array()
    usable = [lm for lm in landmarks if len(lm.frames) >= 2]
    if len(usable) < settings.min_landmarks:
        reason = f"{len(usable)} stationary landmark(s) seen at least twice; the correction needs {settings.min_landmarks}"
        return _not_applied(scene, reason, [], 0.0, settings, started)
    obs = _flatten(usable, settings)
    spread_before, squared_before = _spreads(
        to_world_points(raw, obs.frames, obs.ego), obs.owner, len(usable)
    )

    def fits_for(spread_after: FloatArray, inliers: NDArray[np.bool_]) -> list[LandmarkFit]:
        return [
            LandmarkFit(lm.track_id, lm.label, len(lm.frames), float(b), float(a), bool(ok))
            for lm, b, a, ok in zip(usable, spread_before, spread_after, inliers, strict=True)
        ]

    def rms_before(inliers: NDArray[np.bool_]) -> float:
        kept = inliers[obs.owner]
        return float(np.sqrt(squared_before[kept].mean())) if kept.any() else 0.0

    everyone = np.ones(len(usable), dtype=bool)
    first, last = int(obs.frames.min()), int(obs.frames.max())
    travel = _path_length(raw[:, :3, 3], first, last)
    if travel < settings.min_travel_m:
        reason = (
            f"the ego travelled {travel:.1f} m while landmarks were seen (need {settings.min_travel_m:.0f} m)"
        )
        return _not_applied(
            scene, reason, fits_for(spread_before, everyone), rms_before(everyone), settings, started
        )

    times = scene_frame_times(scene)
    covered = (float(times[first]), float(times[last]))
    # The global scale first; the drift terms only when they explain clearly more (model selection):
    # on short drives a drift and a scale error look alike, and a drift fitted to noise does harm.
    fit = _fit(CorrectionModel.of(raw, times, covered, ModelShape(0, 0, 0)), obs, np.zeros(1), settings)
    if settings.shape != ModelShape(0, 0, 0):
        start = np.zeros(settings.shape.size)
        start[0] = fit.params[0]
        rich = _fit(CorrectionModel.of(raw, times, covered, settings.shape), obs, start, settings)
        if rich.rms(obs.owner) < (1.0 - settings.min_drift_gain) * fit.rms(obs.owner):
            fit = rich
    before, after = rms_before(fit.inliers), fit.rms(obs.owner)
    parameters = _parameters(fit, first, last, travel)
    kept = int(fit.inliers.sum())
    if kept < settings.min_landmarks:
        reason = (
            f"only {kept} landmark(s) agree with each other; the correction needs {settings.min_landmarks}"
        )
        return _not_applied(scene, reason, fits_for(spread_before, fit.inliers), before, settings, started)
    if abs(parameters.mean_scale - 1.0) > settings.max_scale_error:
        reason = f"the fitted scale {parameters.mean_scale:.3f} is implausible (more than {settings.max_scale_error:.0%} off)"
        return _not_applied(scene, reason, fits_for(spread_before, fit.inliers), before, settings, started)
    if after >= before:
        reason = f"the landmarks agree no better ({before:.3f} m before, {after:.3f} m after)"
        return _not_applied(scene, reason, fits_for(spread_before, fit.inliers), before, settings, started)
    fits = fits_for(fit.spread, fit.inliers)
    disagreeing = [f.track_id for f in fits if f.spread_after_m > settings.disagreement_m]
    reason = f"{kept} of {len(usable)} landmarks agree; spread {before:.3f} m -> {after:.3f} m"
    poses = [Pose(m) for m in _matrices(*fit.model.corrected(fit.params))]
    seconds = time.perf_counter() - started
    return PoseCorrection(True, reason, poses, parameters, fits, before, after, disagreeing, seconds)
