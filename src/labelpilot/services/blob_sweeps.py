"""Lidar points of a stored scene in the ego frame, read from the blob store and cached.

A stored sweep (``FrameRow.lidar_blob``) is little-endian float32 x, y, z, intensity rows in the
lidar frame, the KITTI ``.bin`` layout. Scenes loaded by ``scene_load.load_scene`` refer to those
blobs as ``BlobRef(<key>, "f32-blob")``, which ``formats.sweeps`` cannot read (the key is relative
to a blob store, not a file), so automation reads stored scenes through this SweepSource instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.automation.sweep_access import DEFAULT_CAPACITY, CachedSweeps, PointArray
from labelpilot.geometry import Pose
from labelpilot.geometry.pose_json import pose_from_json
from labelpilot.scenes import Scene
from labelpilot.services.errors import InvalidError, NotFoundError
from labelpilot.services.scene_load import SWEEP_BLOB_ENCODING
from labelpilot.store.blobs import BlobStore
from labelpilot.store.tables import FrameRow, SensorRow

RECORD_BYTES = 16
"""Four float32 per point."""


class BlobSweeps(CachedSweeps):
    """``points_ego(frame)`` for a stored scene: (N, 4) float32 in the ego frame, or None without a sweep.

    ``keys[f]`` is frame f's blob key (None: no sweep); ``ego_T_lidar`` moves lidar points into the
    ego frame (None or identity: they already are). The last ``capacity`` sweeps read stay cached.
    """

    def __init__(
        self,
        blobs: BlobStore,
        keys: Sequence[str | None],
        ego_T_lidar: Pose | None,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        super().__init__(len(keys), ego_T_lidar, capacity)
        self._blobs = blobs
        self._keys = list(keys)

    @classmethod
    def of_scene(cls, blobs: BlobStore, scene: Scene, capacity: int = DEFAULT_CAPACITY) -> BlobSweeps:
        """For a scene loaded by ``load_scene`` (its sweeps are ``f32-blob`` references into ``blobs``)."""
        keys: list[str | None] = []
        for frame in scene.frames:
            if frame.lidar is not None and frame.lidar.encoding != SWEEP_BLOB_ENCODING:
                raise InvalidError(
                    f"frame {frame.index} of scene {scene.name!r} has a {frame.lidar.encoding!r} sweep, "
                    f"not a stored {SWEEP_BLOB_ENCODING!r} one",
                    field="lidar",
                )
            keys.append(frame.lidar.url if frame.lidar is not None else None)
        ego_T_lidar = scene.lidar.ego_T_sensor if scene.lidar is not None else None
        return cls(blobs, keys, ego_T_lidar, capacity)

    @classmethod
    def of_rows(
        cls, session: Session, blobs: BlobStore, scene_id: int, capacity: int = DEFAULT_CAPACITY
    ) -> BlobSweeps:
        """Straight from a scene's frame and sensor rows (no access check: for services that checked)."""
        rows = session.execute(
            select(FrameRow.index, FrameRow.lidar_blob)
            .where(FrameRow.scene_id == scene_id)
            .order_by(FrameRow.index)
        ).all()
        keys: list[str | None] = [None] * (rows[-1][0] + 1 if rows else 0)
        for index, key in rows:
            keys[index] = key
        lidar = session.scalar(
            select(SensorRow.ego_T_sensor).where(SensorRow.scene_id == scene_id, SensorRow.kind == "lidar")
        )
        return cls(blobs, keys, pose_from_json(lidar) if lidar is not None else None, capacity)

    @property
    def frames_with_sweeps(self) -> int:
        return sum(1 for key in self._keys if key is not None)

    def _read_lidar(self, frame: int) -> PointArray | None:
        key = self._keys[frame]
        if key is None:
            return None
        try:
            data = self._blobs.get(key)
        except FileNotFoundError:
            raise NotFoundError(f"the sweep {key} of frame {frame} is missing from the blob store") from None
        if len(data) % RECORD_BYTES:
            raise InvalidError(
                f"the sweep {key} of frame {frame} has {len(data)} bytes, "
                f"not a whole number of {RECORD_BYTES}-byte records",
                field="lidar",
            )
        return np.frombuffer(data, dtype="<f4").reshape(-1, 4)
