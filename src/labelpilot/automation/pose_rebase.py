"""Move a scene onto corrected ego poses without changing what any sensor saw.

Every world-frame box of a layer was placed through the raw pose of its frame, so it is re-expressed
through the corrected pose of the same frame: ``corrected_T_raw(f) = Q_f @ inverse(P_f)``. A keyframed
track keeps exactly its ego-frame boxes at its keyframes (only the world frame moves under them); the
raw detections a candidate keeps (``det_center``, ``det_yaw``) move the same way, so a stationary
verdict or world box computed afterwards is computed in the corrected world. A stationary track has one
world box for many frames, so it cannot keep all its ego boxes: it keeps the one of the middle frame of
its life (where a drift between raw and corrected poses is smallest on average) and, through the
corrected poses, becomes the one world box that the landmarks agree with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from labelpilot.automation.pose_correction import PoseCorrection
from labelpilot.geometry import Pose
from labelpilot.scenes import Frame, Scene
from labelpilot.tracks import AnnotationLayer, AttributeValue, Keyframed, Stationary, Track

FloatArray = NDArray[np.float64]


def corrected_T_raw(raw: Sequence[Pose], corrected: Sequence[Pose]) -> FloatArray:
    """(N, 4, 4) per-frame transforms from the raw world frame to the corrected one."""
    if len(raw) != len(corrected):
        raise ValueError(f"{len(raw)} raw poses but {len(corrected)} corrected poses")
    raw_m = np.stack([p.matrix for p in raw])
    return np.asarray(np.stack([q.matrix for q in corrected]) @ np.linalg.inv(raw_m), dtype=np.float64)


def _rebased_attributes(
    attributes: dict[int, dict[str, AttributeValue | list[float]]], moves: FloatArray
) -> dict[int, dict[str, AttributeValue | list[float]]]:
    out: dict[int, dict[str, AttributeValue | list[float]]] = {}
    for frame, attrs in attributes.items():
        attrs = dict(attrs)
        move = moves[frame]
        center = attrs.get("det_center")
        if isinstance(center, list):
            attrs["det_center"] = (move[:3, :3] @ np.asarray(center) + move[:3, 3]).tolist()
        yaw = attrs.get("det_yaw")
        if isinstance(yaw, (int, float)) and not isinstance(yaw, bool):
            attrs["det_yaw"] = float(Pose(move).compose(Pose.from_yaw(float(yaw), np.zeros(3))).yaw)
        out[frame] = attrs
    return out


def rebase_track(track: Track, moves: FloatArray) -> Track:
    """``track`` with its world poses moved from the raw to the corrected world (see the module doc)."""
    motion = track.motion
    if isinstance(motion, Keyframed):
        new_motion: Keyframed | Stationary = Keyframed(
            {f: Pose(moves[f]).compose(p) for f, p in motion.keyframes.items()}
        )
    else:
        frames = track.frames() or [track.first_frame]
        middle = frames[len(frames) // 2]
        new_motion = Stationary(Pose(moves[middle]).compose(motion.world_pose))
    return replace(
        track, motion=new_motion, frame_attributes=_rebased_attributes(track.frame_attributes, moves)
    )


def rebase_layer(layer: AnnotationLayer, moves: FloatArray) -> AnnotationLayer:
    tracks = [rebase_track(t, moves) for t in layer.tracks]
    return AnnotationLayer(layer.name, tracks, list(layer.tracks_2d), layer.description)


def corrected_scene(scene: Scene, correction: PoseCorrection) -> Scene:
    """A copy of ``scene`` on the corrected poses, every layer rebased; ``scene`` itself is unchanged."""
    raw = [f.world_T_ego for f in scene.frames]
    moves = corrected_T_raw(raw, correction.poses)
    frames = [
        Frame(f.index, f.timestamp_us, q, f.lidar, dict(f.images))
        for f, q in zip(scene.frames, correction.poses, strict=True)
    ]
    notes = list(scene.notes)
    if correction.applied and correction.parameters is not None:
        notes.append(
            f"ego poses corrected from stationary landmarks: scale {correction.parameters.mean_scale:.4f}; "
            f"{correction.reason}"
        )
    return Scene(
        scene.name,
        frames,
        scene.lidar,
        dict(scene.cameras),
        {name: rebase_layer(layer, moves) for name, layer in scene.layers.items()},
        scene.source_format,
        notes,
    )
