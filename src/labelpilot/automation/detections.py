"""Flatten any annotation layer into per-frame detections in the world frame.

A detection is one box of one source track at one frame where the source *observed* it:

* a keyframed track contributes its keyframes that are not absent frames: a single-frame detector
  track one box, a 10 Hz tracker track every labelled frame, a 2 Hz tracker on a 10 Hz scene every
  5th frame (the frames in between are the source's interpolation, not observations);
* a stationary track contributes its one world box at every frame of its life.

Boxes are the world poses the track stores at those frames, i.e. exactly what ``tracks.world_shapes``
derives there (keyframes are interpolation nodes, a stationary pose is the same at every frame), read
straight from the poses because a detector layer has thousands of one-frame tracks. The world frame
is where objects move smoothly; the ego frame would add the ego motion. The score of a detection is the frame's ``score`` attribute when the
source keeps one, else the track's score, else none.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from numpy.typing import NDArray

from labelpilot.automation.association import AssociationParams, DetectionSet
from labelpilot.automation.track_scoring import confidences
from labelpilot.geometry import headings
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Keyframed, Track

FloatArray = NDArray[np.float64]


def observed_frames(track: Track) -> list[int]:
    """Frames where the source observed the track (see the module docstring)."""
    if isinstance(track.motion, Keyframed):
        return [f for f in track.motion.keyframes if track.has_shape(f)]
    return track.frames()


def _observed_poses(track: Track, wanted: list[int]) -> FloatArray:
    """(N, 4, 4) world box poses at the observed frames."""
    motion = track.motion
    if isinstance(motion, Keyframed):
        return np.stack([motion.keyframes[f].matrix for f in wanted])
    return np.repeat(motion.world_pose.matrix[None], len(wanted), axis=0)


def _frame_score(track: Track, frame: int) -> float:
    value = track.frame_attributes.get(frame, {}).get("score")
    if isinstance(value, Real) and not isinstance(value, bool):
        return float(value)
    return float("nan") if track.score is None else float(track.score)


def layer_detections(scene: Scene, layer: AnnotationLayer, params: AssociationParams) -> DetectionSet:
    """Every observed box of ``layer`` as a detection, sorted by frame (stable in track order)."""
    frames: list[NDArray[np.int64]] = []
    centers: list[FloatArray] = []
    yaws: list[FloatArray] = []
    rotations: list[FloatArray] = []
    sizes: list[FloatArray] = []
    scores: list[float] = []
    label_names: dict[str, int] = {}
    codes: list[int] = []
    sources: list[str] = []
    for track in layer.tracks:
        wanted = observed_frames(track)
        if not wanted:
            continue
        if wanted[0] < 0 or wanted[-1] >= len(scene.frames):
            raise ValueError(
                f"layer {layer.name!r}, track {track.track_id}: frames {wanted[0]}..{wanted[-1]} "
                f"outside scene {scene.name} (frames 0..{len(scene.frames) - 1})"
            )
        matrices = _observed_poses(track, wanted)
        frames.append(np.asarray(wanted, dtype=np.int64))
        centers.append(matrices[:, :3, 3])
        yaws.append(headings(matrices))
        rotations.append(matrices[:, :3, :3])
        sizes.append(np.repeat(track.size[None], len(wanted), axis=0))
        scores.extend(_frame_score(track, f) for f in wanted)
        code = label_names.setdefault(track.label, len(label_names))
        codes.extend([code] * len(wanted))
        sources.extend([track.track_id] * len(wanted))
    names = tuple(label_names)
    wildcard = np.array([name in params.wildcard_labels for name in names], dtype=np.bool_)
    if not frames:
        empty = np.zeros(0)
        return DetectionSet(
            np.zeros(0, np.int64), np.zeros((0, 3)), empty, np.zeros((0, 3, 3)), np.zeros((0, 3)), empty, empty.copy(),
            np.zeros(0, np.int64), names, wildcard, (),
        )  # fmt: skip
    all_frames = np.concatenate(frames)
    order = np.argsort(all_frames, kind="stable")
    raw_scores = np.asarray(scores, dtype=np.float64)[order]
    return DetectionSet(
        frames=all_frames[order].astype(np.int64),
        centers=np.concatenate(centers)[order],
        yaws=np.concatenate(yaws)[order],
        rotations=np.concatenate(rotations)[order],
        sizes=np.concatenate(sizes)[order],
        scores=raw_scores,
        confidences=confidences(raw_scores, params),
        label_codes=np.asarray(codes, dtype=np.int64)[order],
        label_names=names,
        wildcard_codes=wildcard,
        source_ids=tuple(sources[i] for i in order.tolist()),
    )
