"""Lidar points of a scene's frames in the ego frame, read once and cached."""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from labelpilot.formats.sweeps import read_sweep
from labelpilot.scenes import Scene

PointArray = NDArray[np.float32]


class SweepSource(Protocol):
    """Where automation gets points: ``points_ego(frame)`` is (N, 4) x, y, z, intensity in the ego frame,
    or None when the frame has no sweep."""

    def points_ego(self, frame: int) -> PointArray | None: ...


class SceneSweeps:
    """Reads a scene's sweeps through ``formats.sweeps`` and keeps the last ``capacity`` in memory."""

    def __init__(self, scene: Scene, capacity: int = 16) -> None:
        self._scene = scene
        self._capacity = capacity
        self._cache: OrderedDict[int, PointArray | None] = OrderedDict()
        lidar = scene.lidar
        self._ego_T_lidar = lidar.ego_T_sensor if lidar is not None else None

    def points_ego(self, frame: int) -> PointArray | None:
        if frame in self._cache:
            self._cache.move_to_end(frame)
            return self._cache[frame]
        ref = self._scene.frames[frame].lidar
        points: PointArray | None = None
        if ref is not None:
            raw = read_sweep(ref)
            points = raw.copy()
            if self._ego_T_lidar is not None and not self._ego_T_lidar.allclose(self._ego_T_lidar.identity()):
                points[:, :3] = self._ego_T_lidar.apply(raw[:, :3].astype(np.float64)).astype(np.float32)
        self._cache[frame] = points
        if len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        return points


class NoSweeps:
    """For scenes without lidar (e.g. KITTI tracking here): every frame has no points."""

    def points_ego(self, frame: int) -> PointArray | None:
        return None
