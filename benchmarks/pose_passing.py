"""How many shapes of stationary ground-truth objects one world box passes through a set of ego poses.

For every stationary ground-truth object (the effort benchmark's rule: every world centre within
1.5 m of the median, ``effort.ground_truth``) the ground-truth box of its middle labelled frame (or,
as a harder case, of its first), in that frame's ego (sensor) frame, is placed in the world through the
poses under test and mapped back into every labelled frame through the same poses. A shape passes when that box reaches the class's
3D IoU threshold (``effort.ground_truth.pass_threshold``) against the ground-truth box in the frame.
The ground truth is compared in the ego frame, which no pose error touches (the labels were drawn
in the sensor frame). Ground truth only measures here; it never reaches the correction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from labelpilot.automation.pose_landmarks import Landmark
from labelpilot.effort.ground_truth import GroundTruth, GroundTruthObject
from labelpilot.geometry import CuboidBatch, Pose, iou_3d_pairs
from labelpilot.scenes import Scene
from labelpilot.tracks import TrackShapes, to_ego

FloatArray = NDArray[np.float64]
Placement = Literal["middle", "first"]


@dataclass(frozen=True)
class Passing:
    objects: int
    shapes: int
    passing: int

    @property
    def share(self) -> float:
        return self.passing / self.shapes if self.shapes else float("nan")


def _transform(batch: CuboidBatch, a_T_b: FloatArray) -> CuboidBatch:
    """Cuboids (N, in frames b_i) expressed in frames a_i by per-row (N, 4, 4) transforms."""
    rot = a_T_b[:, :3, :3]
    centers = np.einsum("nij,nj->ni", rot, batch.centers) + a_T_b[:, :3, 3]
    quats = Rotation.from_matrix(rot @ batch.rotation_matrices()).as_quat()
    return CuboidBatch(centers, batch.sizes, quats)


def stationary_objects(scene: Scene) -> list[GroundTruthObject]:
    truth = GroundTruth(scene.layer("ground_truth").tracks)
    return [o for o in truth.objects.values() if o.stationary and len(o.frames) >= 1]


def ego_truth(scene: Scene, obj: GroundTruthObject) -> CuboidBatch:
    """The object's ground-truth boxes in each labelled frame's ego frame (as the labels were drawn)."""
    return to_ego(TrackShapes(obj.frames, obj.shapes), scene.world_T_ego_array()).cuboids


def passing_through(
    scene: Scene, poses: Sequence[Pose], objects: Sequence[GroundTruthObject], placement: Placement = "middle"
) -> Passing:
    """Shapes of ``objects`` that one world box passes through ``poses``: the box of each object's middle
    (or first) labelled frame, placed in the world through that frame's pose."""
    world_T_ego = np.stack([p.matrix for p in poses])
    ego_T_world = np.asarray(np.linalg.inv(world_T_ego), dtype=np.float64)
    shapes = passed = 0
    for obj in objects:
        ego = ego_truth(scene, obj)
        middle = len(obj.frames) // 2 if placement == "middle" else 0
        box = ego[middle].transformed(poses[int(obj.frames[middle])])
        placed = CuboidBatch(
            np.repeat(box.center[None], len(obj.frames), 0),
            np.repeat(box.size[None], len(obj.frames), 0),
            np.repeat(box.quat_xyzw[None], len(obj.frames), 0),
        )
        predicted = _transform(placed, ego_T_world[obj.frames])
        ious = iou_3d_pairs(predicted, ego)
        shapes += len(obj.frames)
        passed += int(np.sum(ious >= obj.threshold))
    return Passing(len(objects), shapes, passed)


def truth_landmarks(scene: Scene, objects: Sequence[GroundTruthObject]) -> list[Landmark]:
    """Stationary ground-truth objects as landmarks: for the reference fit only, never for the product."""
    return [
        Landmark(o.object_id, o.label, o.frames.astype(np.int64), ego_truth(scene, o).centers)
        for o in objects
        if len(o.frames) >= 2
    ]
