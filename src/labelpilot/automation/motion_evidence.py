"""The statistics behind the stationary verdict: noise, robust summaries and the still-or-moving posterior.

Two hypotheses for the true ground-plane displacement ``rho`` of an object between two moments,
observed with Gaussian noise of ``sigma`` per axis (so the observed length ``r`` follows a Rice
distribution with parameters ``rho`` and ``sigma``):

* still: ``rho`` is uniform in a disc of radius ``wander_m`` (density ``2 rho / wander_m**2``), the
  wander of a parked object's world box under imperfect poses and box estimates;
* moving: ``rho = speed * baseline`` with speed log-uniform over ``speed_range_mps``.

Both densities are mixtures over a grid of ``rho`` values; Bayes' rule with the prior gives the
probability of "still".
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ive

from labelpilot.geometry import normalize_yaw

FloatArray = NDArray[np.float64]

MEDIAN_EFFICIENCY = 1.2533
"""Standard error of a median of n Gaussian samples is about 1.2533 sigma / sqrt(n)."""
MAD_TO_SIGMA = 1.4826
_GRID = 48
"""Grid points of each hypothesis' mixture."""
_MAX_HEADING_CANDIDATES = 256


def robust_heading(yaws: ArrayLike) -> float:
    """Circular median of headings that may be flipped by 180 degrees, resolved by majority.

    The axis is the circular median of the doubled angles (flips then agree); the heading is the
    end of that axis that most yaws point to (ties keep the axis direction).
    """
    y = np.asarray(yaws, dtype=np.float64).reshape(-1)
    doubled = normalize_yaw(2.0 * y)
    # The median is one of the samples; long tracks try an evenly spaced subset of them as candidates.
    candidates = doubled[
        np.linspace(0, len(doubled) - 1, min(len(doubled), _MAX_HEADING_CANDIDATES)).astype(int)
    ]
    cost = np.abs(normalize_yaw(doubled[None, :] - candidates[:, None])).sum(axis=1)
    axis = float(candidates[int(np.argmin(cost))]) / 2.0
    forward = int(np.count_nonzero(np.cos(y - axis) >= 0.0))
    heading = axis if 2 * forward >= len(y) else axis + np.pi
    return float(normalize_yaw(heading))


def log_rice(r: FloatArray, nu: FloatArray, sigma: FloatArray) -> FloatArray:
    """Log density of the length of a 2D Gaussian vector with mean length ``nu`` and per-axis ``sigma``.

    Written with the exponentially scaled Bessel function so that far tails stay finite.
    """
    s2 = sigma**2
    out: FloatArray = np.log(r / s2) - (r - nu) ** 2 / (2.0 * s2) + np.log(ive(0, r * nu / s2))
    return out


def _log_mean_exp(log_values: FloatArray, weights: FloatArray) -> FloatArray:
    """log(sum_k weights_k exp(log_values[:, k])) per row, shifted by the row maximum to stay finite."""
    top = np.max(log_values, axis=1, keepdims=True)
    out: FloatArray = top[:, 0] + np.log(np.exp(log_values - top) @ weights)
    return out


def p_still(
    r: FloatArray,
    sigma: FloatArray,
    baseline_s: FloatArray,
    wander_m: float,
    speed_range_mps: tuple[float, float],
    prior_still: float,
) -> FloatArray:
    """Posterior probability of "still" for observed displacement lengths ``r`` (see the module doc).

    ``sigma`` is each displacement's per-axis noise, ``baseline_s`` the time it spans.
    """
    r = np.maximum(r, 1e-6 * sigma)[:, None]
    sig = sigma[:, None]
    # Still: rho uniform in a disc of radius wander_m, i.e. density 2 rho / w^2 on [0, w] (midpoint grid).
    if wander_m > 0.0:
        rho_still = (np.arange(_GRID) + 0.5) / _GRID * wander_m
        weights_still = rho_still / rho_still.sum()
    else:
        rho_still, weights_still = np.zeros(1), np.ones(1)
    log_still = _log_mean_exp(log_rice(r, rho_still[None, :], sig), weights_still)
    speeds = np.geomspace(speed_range_mps[0], speed_range_mps[1], _GRID)
    rho_moving = speeds[None, :] * baseline_s[:, None]
    log_moving = _log_mean_exp(log_rice(r, rho_moving, sig), np.full(_GRID, 1.0 / _GRID))
    log_odds = log_still - log_moving + np.log(prior_still / (1.0 - prior_still))
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(log_odds, -700.0, 700.0))), dtype=np.float64)


def trimmed_mean(values: FloatArray, trim: float) -> FloatArray:
    """Per-column mean after cutting ``trim`` of the rows from each end (scipy's trim_mean, without its overhead)."""
    cut = int(trim * len(values))
    kept = np.sort(values, axis=0)[cut : len(values) - cut]
    out: FloatArray = kept.mean(axis=0)
    return out


def frame_noise(xy: FloatArray, floor: float) -> float:
    """Per-axis centre noise from the MAD of frame-to-frame steps (a step holds two noises)."""
    steps = np.diff(xy, axis=0)
    if len(steps) < 3:
        return floor
    mad = np.median(np.abs(steps - np.median(steps, axis=0)), axis=0)
    return max(floor, float(np.mean(mad)) * MAD_TO_SIGMA / float(np.sqrt(2.0)))
