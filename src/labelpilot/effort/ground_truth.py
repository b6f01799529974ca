"""Ground truth as the benchmark sees it: world-frame shapes per object and frame, pass thresholds.

Only the oracle (what the simulated annotator may learn by paid looks) and the quality accounting
(what is measured after a workflow has delivered) read this; no workflow touches it directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labelpilot.geometry import Cuboid, CuboidBatch
from labelpilot.tracks import Track, world_shapes

FloatArray = NDArray[np.float64]

STRICT_IOU = 0.7
LOOSE_IOU = 0.5
LOOSE_CLASSES = frozenset(
    {
        # KITTI's classes evaluated at 0.5 (EFFORT_MODEL.md rule 1) ...
        "pedestrian",
        "cyclist",
        "person_sitting",
        # ... and the Argoverse 2 categories that are the same kinds of object: people and riders.
        "bicyclist",
        "motorcyclist",
        "wheeled_rider",
        "wheelchair",
        "stroller",
        "dog",
    }
)
"""Classes whose shapes pass at 3D IoU 0.5; every other class (vehicles and the rest) needs 0.7."""

STATIONARY_SPREAD_M = 1.5
"""An object is stationary when every world-frame centre of its ground truth lies within this distance
of their median. Estimated ego poses carry drift (ORB-SLAM3 poses keep parked cars within about 1 m),
so an exact zero cannot be asked for."""


def pass_threshold(label: str) -> float:
    """The 3D IoU a shape of this class needs to pass."""
    return LOOSE_IOU if label.lower() in LOOSE_CLASSES else STRICT_IOU


@dataclass(frozen=True, eq=False)
class GroundTruthObject:
    """One ground-truth object: its world shapes at the frames where it is labelled."""

    object_id: str
    label: str
    frames: NDArray[np.int64]
    shapes: CuboidBatch
    stationary: bool

    @property
    def threshold(self) -> float:
        return pass_threshold(self.label)

    def row(self, frame: int) -> int | None:
        i = int(np.searchsorted(self.frames, frame))
        return i if i < len(self.frames) and int(self.frames[i]) == frame else None

    def shape(self, frame: int) -> Cuboid | None:
        row = self.row(frame)
        return None if row is None else self.shapes[row]


def _is_stationary(centers: FloatArray) -> bool:
    if len(centers) < 2:
        return True
    spread = np.linalg.norm(centers - np.median(centers, axis=0), axis=1)
    return bool(spread.max() <= STATIONARY_SPREAD_M)


def _object(track: Track) -> GroundTruthObject:
    shapes = world_shapes(track)
    stationary = _is_stationary(shapes.cuboids.centers)
    return GroundTruthObject(track.track_id, track.label, shapes.frames, shapes.cuboids, stationary)


class GroundTruth:
    """The ground-truth objects of a scene, indexed by frame."""

    def __init__(self, tracks: Iterable[Track]) -> None:
        self.objects: dict[str, GroundTruthObject] = {}
        self._at_frame: dict[int, list[str]] = {}
        for track in tracks:
            obj = _object(track)
            if len(obj.frames) == 0:
                continue
            self.objects[obj.object_id] = obj
            for frame in obj.frames.tolist():
                self._at_frame.setdefault(int(frame), []).append(obj.object_id)

    def at_frame(self, frame: int) -> Sequence[str]:
        """Ids of the objects labelled in ``frame``."""
        return self._at_frame.get(frame, [])
