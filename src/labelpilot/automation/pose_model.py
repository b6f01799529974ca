"""A low-order model of what is wrong with an estimated ego trajectory: scale, yaw drift, translation drift.

Visual odometry gets the length of each step slightly wrong (a scale error; ORB-SLAM3 stereo on KITTI
makes translations about 3 % too long) and lets heading and position wander slowly. The model keeps the
raw trajectory's shape and corrects it step by step, so that the corrected poses stay smooth:

* each raw step ``t[k+1] - t[k]`` is scaled by ``s(u) = exp(a0 + a1 u + ...)`` and turned about the
  world's up axis by the yaw drift ``theta(u) = b1 u + b2 u^2 + ...`` at the step's time;
* the corrected orientation is the raw one turned by ``theta(u)``;
* a translation drift ``d(u) = c1 u + c2 u^2 + ...`` (a 3-vector per power) is added to the position.

``u`` is the frame's time normalised to [0, 1] over the scene and clamped to the span that the
landmarks cover (``covered``), so that nothing is extrapolated beyond the evidence: outside it the
scale stays at its edge value and the drifts stay constant. Frame 0 keeps its raw pose (the world
frame of a KITTI scene is the ego frame of frame 0), so all drift terms vanish at ``u = 0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labelpilot.geometry import Pose

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ModelShape:
    """Polynomial degrees of the three corrections (0 switches a drift term off)."""

    scale_degree: int = 1
    """Degree of log-scale in time: 0 one global scale, 1 a scale that changes linearly."""
    yaw_degree: int = 1
    drift_degree: int = 1

    def __post_init__(self) -> None:
        if min(self.scale_degree, self.yaw_degree, self.drift_degree) < 0:
            raise ValueError("polynomial degrees must not be negative")

    @property
    def size(self) -> int:
        """Number of model parameters: log-scale, yaw drift, then translation drift (x, y, z per power)."""
        return self.scale_degree + 1 + self.yaw_degree + 3 * self.drift_degree


@dataclass(frozen=True, eq=False)
class CorrectionModel:
    """The raw trajectory, its normalised times and the covered span: evaluates corrected poses."""

    shape: ModelShape
    rotations: FloatArray  # (N, 3, 3) raw world_R_ego
    translations: FloatArray  # (N, 3) raw world_t_ego
    u: FloatArray  # (N,) normalised frame times, clamped to the covered span
    u_steps: FloatArray  # (N - 1,) normalised step times (midpoints), clamped

    @classmethod
    def of(
        cls, world_T_ego: FloatArray, times_s: FloatArray, covered: tuple[float, float], shape: ModelShape
    ) -> CorrectionModel:
        """``covered`` is the (first, last) time in seconds at which landmarks were observed."""
        times = np.asarray(times_s, dtype=np.float64)
        span = float(times[-1] - times[0]) if len(times) > 1 else 0.0
        scale = span if span > 0 else 1.0
        u = (times - times[0]) / scale
        lo, hi = ((c - float(times[0])) / scale for c in covered)
        mid = 0.5 * (u[1:] + u[:-1])
        return cls(
            shape,
            np.asarray(world_T_ego[:, :3, :3], dtype=np.float64),
            np.asarray(world_T_ego[:, :3, 3], dtype=np.float64),
            np.clip(u, lo, hi),
            np.clip(mid, lo, hi),
        )

    def split(self, params: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(log-scale coefficients, yaw coefficients, (drift_degree, 3) translation coefficients)."""
        s = self.shape
        a = params[: s.scale_degree + 1]
        b = params[s.scale_degree + 1 : s.scale_degree + 1 + s.yaw_degree]
        c = params[s.scale_degree + 1 + s.yaw_degree : s.size].reshape(s.drift_degree, 3)
        return a, b, c

    @staticmethod
    def _powers(u: FloatArray, first: int, last: int) -> FloatArray:
        """(len(u), last - first + 1) columns u**first .. u**last."""
        return np.asarray(u[:, None] ** np.arange(first, last + 1)[None, :], dtype=np.float64)

    def scale_at(self, params: FloatArray, u: FloatArray) -> FloatArray:
        a, _, _ = self.split(params)
        return np.exp(self._powers(u, 0, self.shape.scale_degree) @ a)

    def yaw_at(self, params: FloatArray, u: FloatArray) -> FloatArray:
        _, b, _ = self.split(params)
        if not len(b):
            return np.zeros(len(u))
        return self._powers(u, 1, self.shape.yaw_degree) @ b

    def drift_at(self, params: FloatArray, u: FloatArray) -> FloatArray:
        _, _, c = self.split(params)
        if not len(c):
            return np.zeros((len(u), 3))
        return self._powers(u, 1, self.shape.drift_degree) @ c

    def corrected(self, params: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Corrected (N, 3, 3) rotations and (N, 3) translations for the parameters."""
        steps = np.diff(self.translations, axis=0)
        yaw0 = self.yaw_at(params, self.u[:1])
        step_yaw = self.yaw_at(params, self.u_steps) - yaw0
        cos, sin = np.cos(step_yaw), np.sin(step_yaw)
        scaled = steps * self.scale_at(params, self.u_steps)[:, None]
        turned = np.column_stack(
            [cos * scaled[:, 0] - sin * scaled[:, 1], sin * scaled[:, 0] + cos * scaled[:, 1], scaled[:, 2]]
        )
        translations = self.translations[0] + np.vstack([np.zeros((1, 3)), np.cumsum(turned, axis=0)])
        translations = translations + self.drift_at(params, self.u) - self.drift_at(params, self.u[:1])
        frame_yaw = self.yaw_at(params, self.u) - yaw0
        c, s = np.cos(frame_yaw), np.sin(frame_yaw)
        turn = np.zeros((len(frame_yaw), 3, 3))
        turn[:, 0, 0], turn[:, 0, 1], turn[:, 1, 0], turn[:, 1, 1], turn[:, 2, 2] = c, -s, s, c, 1.0
        return turn @ self.rotations, translations

    def poses(self, params: FloatArray) -> list[Pose]:
        rotations, translations = self.corrected(params)
        matrices = np.zeros((len(rotations), 4, 4))
        matrices[:, :3, :3] = rotations
        matrices[:, :3, 3] = translations
        matrices[:, 3, 3] = 1.0
        return [Pose(m) for m in matrices]
