"""Lidar points of a scene's frames in the ego frame, read once and cached."""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from labelpilot.formats.sweeps import read_sweep
from labelpilot.geometry import Pose
from labelpilot.scenes import Scene

PointArray = NDArray[np.float32]
DEFAULT_CAPACITY = 16
"""Sweeps kept in memory: a ~120k-point sweep is ~2 MB, so the cache stays around 30 MB."""


class SweepSource(Protocol):
    """Where automation gets points: ``points_ego(frame)`` is (N, 4) x, y, z, intensity in the ego frame,
    or None when the frame has no sweep."""

    def points_ego(self, frame: int) -> PointArray | None: ...


class CachedSweeps:
    """A SweepSource over any store of lidar-frame sweeps: moves points into the ego frame and keeps
    the last ``capacity`` frames in memory. Subclasses say how many frames there are and read one."""

    def __init__(self, frame_count: int, ego_T_lidar: Pose | None, capacity: int = DEFAULT_CAPACITY) -> None:
        self._frame_count = frame_count
        moves = ego_T_lidar is not None and not ego_T_lidar.allclose(Pose.identity())
        self._ego_T_lidar = ego_T_lidar if moves else None
        self._capacity = max(1, capacity)
        self._cache: OrderedDict[int, PointArray | None] = OrderedDict()

    def _read_lidar(self, frame: int) -> PointArray | None:
        """The frame's sweep in the lidar frame, or None without one."""
        raise NotImplementedError

    def points_ego(self, frame: int) -> PointArray | None:
        if frame in self._cache:
            self._cache.move_to_end(frame)
            return self._cache[frame]
        if not 0 <= frame < self._frame_count:
            raise IndexError(f"frame {frame} is outside the scene's frames 0..{self._frame_count - 1}")
        raw = self._read_lidar(frame)
        points = None if raw is None else raw.astype(np.float32, copy=True)
        if points is not None and self._ego_T_lidar is not None:
            points[:, :3] = self._ego_T_lidar.apply(points[:, :3].astype(np.float64)).astype(np.float32)
        self._cache[frame] = points
        if len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        return points


class SceneSweeps(CachedSweeps):
    """Reads a scene's sweeps through ``formats.sweeps``."""

    def __init__(self, scene: Scene, capacity: int = DEFAULT_CAPACITY) -> None:
        lidar = scene.lidar
        super().__init__(len(scene.frames), lidar.ego_T_sensor if lidar is not None else None, capacity)
        self._scene = scene

    def _read_lidar(self, frame: int) -> PointArray | None:
        ref = self._scene.frames[frame].lidar
        return None if ref is None else read_sweep(ref)


class NoSweeps:
    """For scenes without lidar (e.g. KITTI tracking here): every frame has no points."""

    def points_ego(self, frame: int) -> PointArray | None:
        return None
