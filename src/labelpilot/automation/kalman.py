"""A bank of constant-velocity Kalman filters for object centres in the world frame, vectorised over tracks.

Each track's state is position and velocity along x, y and z. With a white-noise acceleration
model and an isotropic measurement noise in the ground plane, the x and y axes evolve with the
same matrices and never correlate, so the filter splits into per-axis 2-state filters (position,
velocity) whose covariance is shared by x and y; z has its own, calmer noise. That keeps the bank
to (T, 3, 2) means and two (T, 2, 2) covariances, and every step is a few array operations.

Time steps are in seconds, one per track, so a track that missed frames (or a 2 Hz source on a
10 Hz scene) is predicted over the whole gap in one step: the white-noise acceleration covariance
over an interval equals the sum over its parts, so one long step is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

XY_AXES = slice(0, 2)
Z_AXIS = 2


@dataclass(frozen=True)
class MotionNoise:
    """Noise of the constant-velocity model.

    ``accel_*`` is the standard deviation (m/s^2) of the white-noise acceleration that lets a track
    speed up, brake and turn; ``measurement_*`` the standard deviation (m) of a detected centre;
    ``initial_speed`` the spread (m/s) of a new track's unknown velocity.
    """

    accel_xy: float = 3.0
    accel_z: float = 0.5
    measurement_xy: float = 0.5
    measurement_z: float = 0.3
    initial_speed: float = 5.0
    initial_speed_z: float = 0.5


@dataclass
class FilterBank:
    """T filters: ``mean`` (T, 3 axes, [position, velocity]), ``cov_xy`` and ``cov_z`` (T, 2, 2)."""

    mean: FloatArray
    cov_xy: FloatArray
    cov_z: FloatArray

    @classmethod
    def empty(cls) -> FilterBank:
        return cls(np.zeros((0, 3, 2)), np.zeros((0, 2, 2)), np.zeros((0, 2, 2)))

    @classmethod
    def born(cls, centers: FloatArray, noise: MotionNoise) -> FilterBank:
        """New tracks at measured centres (N, 3), at rest with an uncertain velocity."""
        n = len(centers)
        mean = np.zeros((n, 3, 2))
        mean[:, :, 0] = centers
        cov_xy = np.zeros((n, 2, 2))
        cov_xy[:, 0, 0] = noise.measurement_xy**2
        cov_xy[:, 1, 1] = noise.initial_speed**2
        cov_z = np.zeros((n, 2, 2))
        cov_z[:, 0, 0] = noise.measurement_z**2
        cov_z[:, 1, 1] = noise.initial_speed_z**2
        return cls(mean, cov_xy, cov_z)

    def __len__(self) -> int:
        return len(self.mean)

    @property
    def positions(self) -> FloatArray:
        return self.mean[:, :, 0]

    def take(self, rows: NDArray[np.intp] | NDArray[np.bool_]) -> FilterBank:
        return FilterBank(self.mean[rows], self.cov_xy[rows], self.cov_z[rows])

    def append(self, other: FilterBank) -> FilterBank:
        return FilterBank(
            np.concatenate([self.mean, other.mean]),
            np.concatenate([self.cov_xy, other.cov_xy]),
            np.concatenate([self.cov_z, other.cov_z]),
        )


def transition(dt: FloatArray) -> FloatArray:
    """(T, 2, 2) constant-velocity transition over ``dt`` seconds."""
    f = np.zeros((len(dt), 2, 2))
    f[:, 0, 0] = f[:, 1, 1] = 1.0
    f[:, 0, 1] = dt
    return f


def process_noise(dt: FloatArray, accel_std: float) -> FloatArray:
    """(T, 2, 2) covariance added by white-noise acceleration over ``dt`` seconds."""
    q = accel_std**2
    out = np.empty((len(dt), 2, 2))
    out[:, 0, 0] = q * dt**3 / 3.0
    out[:, 0, 1] = out[:, 1, 0] = q * dt**2 / 2.0
    out[:, 1, 1] = q * dt
    return out


def _propagate(cov: FloatArray, f: FloatArray, q: FloatArray) -> FloatArray:
    propagated: FloatArray = f @ cov @ np.transpose(f, (0, 2, 1)) + q
    return propagated


def predict(bank: FilterBank, dt: FloatArray, noise: MotionNoise) -> FilterBank:
    """Every filter moved ``dt`` (T,) seconds ahead."""
    f = transition(dt)
    mean = bank.mean.copy()
    mean[:, :, 0] += bank.mean[:, :, 1] * dt[:, None]
    return FilterBank(
        mean,
        _propagate(bank.cov_xy, f, process_noise(dt, noise.accel_xy)),
        _propagate(bank.cov_z, f, process_noise(dt, noise.accel_z)),
    )


def bev_innovation_variance(bank: FilterBank, noise: MotionNoise) -> FloatArray:
    """(T,) variance of a measured ground-plane centre coordinate around each prediction (same for x and y)."""
    variance: FloatArray = bank.cov_xy[:, 0, 0] + noise.measurement_xy**2
    return variance


def _update_group(mean: FloatArray, cov: FloatArray, residual: FloatArray, r_var: float) -> FloatArray:
    """Kalman update of the axes in ``mean`` (T, A, 2) sharing ``cov`` (T, 2, 2); returns the new cov."""
    s = cov[:, 0, 0] + r_var
    gain = cov[:, :, 0] / s[:, None]  # (T, 2): position and velocity gains
    mean += residual[:, :, None] * gain[:, None, :]
    updated: FloatArray = cov - gain[:, :, None] * cov[:, None, 0, :]
    return updated


def update(bank: FilterBank, measured: FloatArray, noise: MotionNoise) -> FilterBank:
    """Filters corrected by measured centres (T, 3)."""
    mean = bank.mean.copy()
    residual = measured - bank.mean[:, :, 0]
    xy = mean[:, XY_AXES]
    cov_xy = _update_group(xy, bank.cov_xy, residual[:, XY_AXES], noise.measurement_xy**2)
    mean[:, XY_AXES] = xy
    z = mean[:, Z_AXIS : Z_AXIS + 1]
    cov_z = _update_group(z, bank.cov_z, residual[:, Z_AXIS : Z_AXIS + 1], noise.measurement_z**2)
    mean[:, Z_AXIS : Z_AXIS + 1] = z
    return FilterBank(mean, cov_xy, cov_z)


def _smoother_gains(cov: FloatArray, dt: FloatArray, accel_std: float) -> FloatArray:
    """(K-1, 2, 2) Rauch-Tung-Striebel gains P_k F^T (F P_k F^T + Q)^-1 between consecutive updates."""
    f = transition(dt)
    prior = _propagate(cov[:-1], f, process_noise(dt, accel_std))
    # C = P F^T prior^-1  <=>  prior^T C^T = F P^T; prior and P are symmetric.
    gains_t = np.linalg.solve(prior, f @ cov[:-1])
    gains: FloatArray = np.transpose(gains_t, (0, 2, 1))
    return gains


def smooth(filtered: FilterBank, times: FloatArray, noise: MotionNoise) -> FloatArray:
    """Fixed-interval (RTS) smoothed means (K, 3, 2) of one track from its K filtered updates at ``times``.

    Offline labelling sees the whole sequence, so every box may use its future as well as its past:
    the smoother removes the forward filter's lag at the start of a track and after turns.
    """
    k = len(filtered)
    if k < 2:
        return filtered.mean.copy()
    dt = np.diff(times)
    gains_xy = _smoother_gains(filtered.cov_xy, dt, noise.accel_xy)
    gains_z = _smoother_gains(filtered.cov_z, dt, noise.accel_z)
    # Predicted means of step k+1 from step k: position plus velocity times dt, velocity unchanged.
    predicted = filtered.mean[:-1].copy()
    predicted[:, :, 0] += filtered.mean[:-1, :, 1] * dt[:, None]
    smoothed = filtered.mean.copy()
    for i in range(k - 2, -1, -1):
        correction = smoothed[i + 1] - predicted[i]  # (3, 2)
        smoothed[i, XY_AXES] += correction[XY_AXES] @ gains_xy[i].T
        smoothed[i, Z_AXIS] += gains_z[i] @ correction[Z_AXIS]
    return smoothed
