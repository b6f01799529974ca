"""Candidate tracks from any auto-label layer: detections -> associated, smoothed, scored tracks.

``build_candidates(scene, layer)`` returns a new layer ``candidates:<layer name>`` of CANDIDATE
tracks with provenance ``Provenance("candidate", <layer name>)``. It reads only the layer it is
given (and the scene's frame times and poses, and lidar through ``sweeps``), never another layer.

How each candidate is made (see ``detections``, ``association`` and ``track_scoring`` for the steps):

* keyframes: one world pose at every frame where the candidate has a detection. The position is
  the RTS-smoothed Kalman centre (``params.smooth``; else the raw detected centre); the heading is
  the detected yaw made consistent along the track: a detection flipped by ~180 degrees against its
  predecessor is turned back, and the whole track is then oriented along its motion when it moves
  (smoothed speed above 1 m/s), else the way most of its detections point. The rotation is the
  detection's own (turned about its up axis where flipped), so a tilt the source gives its boxes
  (e.g. boxes upright in a pitched ego frame) is kept. The association itself works in the ground plane.
  Frames between detections are present and interpolated (no absent frames): a missed detection is
  not a missing object;
* fragments: where the association lost an object for longer than ``max_misses`` and found it again
  within ``stitching.max_gap_s`` where its motion leads, the two tracks are one candidate
  (``stitching``); each fragment is smoothed on its own, the gap is interpolated;
* size: the median of the detected sizes; label: the most frequent non-wildcard label (ties go
  to the higher summed confidence), or the wildcard label when the source gave no class;
* score: see ``track_scoring`` (confidence, length, hit ratio and point support). Attributes:
  ``detections`` (hits), ``mean_detection_score`` (raw scores; absent when the source had none),
  ``mean_confidence``, ``hit_ratio`` (hits over the observation frames in the candidate's life) and
  ``point_support`` (mean lidar points in the box, only when measured);
* ``frame_attributes[f]`` keep the raw detection: ``det_center``, ``det_yaw``, ``det_size``,
  ``det_score`` (when given) and ``det_source`` (the source track id), for keyframe suggestions and flags.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from labelpilot.automation.association import (
    Association,
    AssociationParams,
    DetectionSet,
    associate,
    frame_times,
)
from labelpilot.automation.detections import layer_detections
from labelpilot.automation.duplicates import duplicate_mask
from labelpilot.automation.kalman import FilterBank, smooth
from labelpilot.automation.stitching import FragmentEnds, StitchParams, stitch
from labelpilot.automation.sweep_access import SweepSource
from labelpilot.automation.track_scoring import mean_support, point_counts, track_score
from labelpilot.geometry import CuboidBatch, Pose, normalize_yaw, yaw_difference
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, AttributeValue, Provenance, Track, TrackStatus

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

CANDIDATE_PREFIX = "candidates:"
DEFAULT_PARAMS = AssociationParams()
DEFAULT_STITCH = StitchParams()
HALF_TURN = np.diag([-1.0, -1.0, 1.0])
"""A rotation by 180 degrees about the box's own z axis."""
MOVING_SPEED_MPS = 1.0
"""Above this smoothed speed a detection's heading is expected to follow the motion."""


@dataclass(frozen=True, eq=False)
class _CandidateGeometry:
    """One associated track before it becomes a ``Track``: its detections and the boxes at them."""

    detections: IntArray
    centers: FloatArray
    rotations: FloatArray  # (K, 3, 3)
    size: FloatArray


def consistent_yaws(raw: FloatArray, velocities_xy: FloatArray) -> FloatArray:
    """Detected yaws with 180-degree flips undone and the track oriented along its motion (or its majority)."""
    if len(raw) == 0:
        return raw.copy()
    # A step of more than 90 degrees between consecutive detections is a flip; flips accumulate.
    steps = np.abs(yaw_difference(raw[1:], raw[:-1])) > np.pi / 2
    flipped = np.concatenate([[False], np.cumsum(steps) % 2 == 1])
    yaws = normalize_yaw(raw + np.pi * flipped)
    speed = np.linalg.norm(velocities_xy, axis=1)
    moving = speed > MOVING_SPEED_MPS
    if moving.any():
        heading = np.arctan2(velocities_xy[moving, 1], velocities_xy[moving, 0])
        turn_around = float(np.sum(np.cos(yaws[moving] - heading))) < 0.0
    else:
        turn_around = int(flipped.sum()) * 2 > len(flipped)
    return normalize_yaw(yaws + np.pi) if turn_around else yaws


def _majority_label(dets: DetectionSet, rows: IntArray) -> str:
    codes = dets.label_codes[rows]
    specific = ~dets.wildcard_codes[codes]
    pool = codes[specific] if specific.any() else codes
    votes: Counter[int] = Counter(int(c) for c in pool)
    weight = {c: float(dets.confidences[rows][codes == c].sum()) for c in votes}
    best = max(votes, key=lambda c: (votes[c], weight[c], -c))
    return dets.label_names[best]


@dataclass(frozen=True, eq=False)
class _Smoothed:
    """One associated fragment's detections with their smoothed centres and ground-plane velocities."""

    rows: IntArray
    centers: FloatArray
    velocities_xy: FloatArray


def _smoothed(
    dets: DetectionSet, rows: IntArray, association: Association, times: FloatArray, params: AssociationParams
) -> _Smoothed:
    filtered = association.filtered
    bank = FilterBank(filtered.mean[rows], filtered.cov_xy[rows], filtered.cov_z[rows])
    smoothed = smooth(bank, times[dets.frames[rows]], params.noise)
    centers = smoothed[:, :, 0] if params.smooth else dets.centers[rows]
    return _Smoothed(rows, centers, smoothed[:, :2, 1])


def _ends(dets: DetectionSet, fragment: _Smoothed, times: FloatArray) -> FragmentEnds:
    frames = dets.frames[fragment.rows]
    return FragmentEnds(
        _majority_label(dets, fragment.rows),
        len(fragment.rows),
        float(times[frames[0]]),
        fragment.centers[0, :2],
        fragment.velocities_xy[0],
        float(times[frames[-1]]),
        fragment.centers[-1, :2],
        fragment.velocities_xy[-1],
    )


def _geometry(dets: DetectionSet, parts: Sequence[_Smoothed]) -> _CandidateGeometry:
    """One candidate from one or more fragments of the same object (each smoothed on its own: the
    filter was restarted for each)."""
    rows = np.concatenate([p.rows for p in parts])
    centers = np.concatenate([p.centers for p in parts])
    yaws = consistent_yaws(dets.yaws[rows], np.concatenate([p.velocities_xy for p in parts]))
    # A detection turned by 180 degrees turns about its own up axis, keeping any tilt of its box.
    turned = np.abs(yaw_difference(yaws, dets.yaws[rows])) > np.pi / 2
    rotations = dets.rotations[rows] @ np.where(turned[:, None, None], HALF_TURN, np.eye(3))
    return _CandidateGeometry(rows, centers, rotations, np.median(dets.sizes[rows], axis=0))


def _world_poses(centers: FloatArray, rotations: FloatArray) -> list[Pose]:
    matrices = np.zeros((len(centers), 4, 4))
    matrices[:, :3, :3] = rotations
    matrices[:, :3, 3] = centers
    matrices[:, 3, 3] = 1.0
    return [Pose(m) for m in matrices]


def _frame_attributes(dets: DetectionSet, rows: IntArray) -> list[dict[str, AttributeValue | list[float]]]:
    """The raw detection behind each keyframe, as plain Python values (``tolist`` converts in one go)."""
    scores = dets.scores[rows].tolist()
    out: list[dict[str, AttributeValue | list[float]]] = []
    for i, center, yaw, size, score in zip(
        rows.tolist(),
        dets.centers[rows].tolist(),
        dets.yaws[rows].tolist(),
        dets.sizes[rows].tolist(),
        scores,
        strict=True,
    ):
        attributes: dict[str, AttributeValue | list[float]] = {
            "det_center": center, "det_yaw": yaw, "det_size": size, "det_source": dets.source_ids[i],
        }  # fmt: skip
        if np.isfinite(score):
            attributes["det_score"] = score
        out.append(attributes)
    return out


def _to_track(
    track_id: str,
    geo: _CandidateGeometry,
    dets: DetectionSet,
    support: float | None,
    observation_frames: IntArray,
    source: str,
    params: AssociationParams,
) -> Track:
    rows = geo.detections
    frames = dets.frames[rows]
    hits = len(rows)
    mean_confidence = float(dets.confidences[rows].mean())
    span = np.searchsorted(observation_frames, [frames[0], frames[-1]], side="left")
    hit_ratio = hits / (int(span[1] - span[0]) + 1)
    track = Track.keyframed(
        track_id,
        _majority_label(dets, rows),
        geo.size,
        dict(zip(frames.tolist(), _world_poses(geo.centers, geo.rotations), strict=True)),
        provenance=Provenance("candidate", source),
        status=TrackStatus.CANDIDATE,
        score=track_score(mean_confidence, hits, hit_ratio, support, params),
    )
    attributes: dict[str, AttributeValue] = {
        "detections": hits,
        "mean_confidence": mean_confidence,
        "hit_ratio": hit_ratio,
    }
    given = dets.scores[rows][np.isfinite(dets.scores[rows])]
    if len(given):
        attributes["mean_detection_score"] = float(given.mean())
    if support is not None:
        attributes["point_support"] = support
    track.attributes = attributes
    track.frame_attributes = dict(zip(frames.tolist(), _frame_attributes(dets, rows), strict=True))
    return track


def build_candidates(
    scene: Scene,
    layer: AnnotationLayer,
    *,
    sweeps: SweepSource | None = None,
    params: AssociationParams = DEFAULT_PARAMS,
    stitching: StitchParams = DEFAULT_STITCH,
) -> AnnotationLayer:
    """Candidate tracks associated from the detections of ``layer`` (see the module docstring)."""
    dets = layer_detections(scene, layer, params)
    times = frame_times(np.array(scene.timestamps_us, dtype=np.int64), params.frame_period_s)
    usable = dets.confidences >= params.min_confidence
    if params.suppress_duplicates:
        usable &= ~duplicate_mask(dets, usable)
    association = associate(dets, times, params, usable)
    fragments = [_smoothed(dets, rows, association, times, params) for rows in association.track_detections()]
    groups = stitch(
        [_ends(dets, f, times) for f in fragments], stitching, params.wildcard_labels, params.max_speed_mps
    )
    geometries = [
        _geometry(dets, [fragments[i] for i in group])
        for group in groups
        if sum(len(fragments[i].rows) for i in group) >= params.min_hits
    ]
    geometries.sort(key=lambda g: (int(dets.frames[g.detections[0]]), int(g.detections[0])))
    supports: list[float | None] = [None] * len(geometries)
    if sweeps is not None and geometries:
        rows = np.concatenate([g.detections for g in geometries])
        boxes = CuboidBatch(
            np.concatenate([g.centers for g in geometries]),
            np.concatenate([np.repeat(g.size[None], len(g.detections), axis=0) for g in geometries]),
            Rotation.from_matrix(np.concatenate([g.rotations for g in geometries])).as_quat(),
        )
        counts = point_counts(scene, sweeps, dets.frames[rows], boxes)
        bounds = np.cumsum([0] + [len(g.detections) for g in geometries])
        supports = [mean_support(counts, np.arange(bounds[i], bounds[i + 1])) for i in range(len(geometries))]
    observation_frames = np.unique(dets.frames[usable])
    digits = max(4, len(str(len(geometries))))
    tracks = [
        _to_track(f"cand-{i:0{digits}d}", g, dets, supports[i], observation_frames, layer.name, params)
        for i, g in enumerate(geometries)
    ]
    description = (
        f"{len(tracks)} candidate tracks associated from {len(dets)} detections of {layer.name!r} "
        f"(min {params.min_hits} detections, at most {params.max_misses} missed observation frames; "
        f"{len(fragments) - len(groups)} gaps of up to {stitching.max_gap_s:g} s bridged)"
    )
    return AnnotationLayer(f"{CANDIDATE_PREFIX}{layer.name}", tracks, description=description)
