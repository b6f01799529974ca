"""Annotation layers from KITTI label rows: ground truth, detections and tracker results.

Every box goes camera (ref) -> ego (Velodyne) -> world with the frame's ego pose, keeping the full
rotation (ORB-SLAM poses tilt, so nothing is reduced to yaw on the way).

Per-frame facts kept in ``Track.frame_attributes`` so that export is faithful:
``truncated`` (float), ``occluded`` (int), ``alpha`` (float), ``bbox_2d`` ([x1, y1, x2, y2] in image_02
pixels) and, for candidates, ``score``. A result's "unknown" markers (-1, -10) are not stored.

DontCare regions are not tracks: they are kept on the ground-truth layer's ``tracks_2d`` as one
single-frame ``Track2D`` per region with label ``DontCare`` (attribute ``kitti_dont_care``), so
that writing the layer back reproduces them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from labelpilot.formats.errors import FormatError
from labelpilot.formats.kitti_boxes import CameraBoxes, camera_boxes_to_ego
from labelpilot.formats.kitti_labels import DONT_CARE, LabelFile, LabelRow
from labelpilot.geometry import Pose
from labelpilot.tracks import (
    AnnotationLayer,
    AttributeValue,
    Box2D,
    Keyframed,
    Provenance,
    Track,
    Track2D,
    TrackStatus,
)

FloatArray = NDArray[np.float64]
FrameAttributes = dict[str, AttributeValue | list[float]]

DONT_CARE_ATTRIBUTE = "kitti_dont_care"


@dataclass(frozen=True, eq=False)
class BoxPlacer:
    """Puts label rows into the world: the ref -> ego calibration and the ego pose of every frame."""

    ego_T_ref: Pose
    world_T_ego: Sequence[Pose]

    def world_poses(self, rows: Sequence[LabelRow]) -> tuple[list[Pose], FloatArray]:
        """World box poses and sizes (l, w, h) of the rows."""
        boxes = CameraBoxes(
            np.array([r.dims_hwl for r in rows], dtype=np.float64).reshape(-1, 3),
            np.array([r.bottom for r in rows], dtype=np.float64).reshape(-1, 3),
            np.array([r.rotation_y for r in rows], dtype=np.float64),
        )
        ego_boxes, sizes = camera_boxes_to_ego(boxes, self.ego_T_ref)
        world = [self.world_T_ego[r.frame].matrix @ ego_boxes[i] for i, r in enumerate(rows)]
        return [Pose(m) for m in world], sizes


@dataclass
class LayerSummary:
    """What went into a layer, for the scene's notes."""

    name: str
    tracks: int = 0
    shapes: int = 0
    by_label: Counter[str] = field(default_factory=Counter)
    remarks: list[str] = field(default_factory=list)

    def note(self) -> str:
        labels = ", ".join(f"{label} {n}" for label, n in sorted(self.by_label.items()))
        text = f"{self.name}: {self.tracks} tracks ({labels}), {self.shapes} shapes"
        return "; ".join([text, *self.remarks])


def _frame_attributes(row: LabelRow) -> FrameAttributes:
    attributes: FrameAttributes = {"bbox_2d": list(row.bbox)}
    if row.truncated is not None:
        attributes["truncated"] = row.truncated
    if row.occluded is not None:
        attributes["occluded"] = row.occluded
    if row.alpha is not None:
        attributes["alpha"] = row.alpha
    if row.score is not None:
        attributes["score"] = row.score
    return attributes


def _group_by_track(rows: Sequence[LabelRow], file: LabelFile) -> dict[int, list[LabelRow]]:
    """Rows per track id; a track must keep one class and have at most one box per frame."""
    groups: dict[int, list[LabelRow]] = defaultdict(list)
    for row in rows:
        group = groups[row.track_id]
        if group and group[0].label != row.label:
            raise FormatError(
                file.path,
                f"track {row.track_id} is {group[0].label!r} on line {group[0].line} but {row.label!r} here",
                line=row.line,
                field="type",
            )
        group.append(row)
    for track_id, group in groups.items():
        seen: dict[int, int] = {}
        for row in group:
            if row.frame in seen:
                raise FormatError(
                    file.path,
                    f"track {track_id} has a second box in frame {row.frame} (first on line {seen[row.frame]})",
                    line=row.line,
                    field="track_id",
                )
            seen[row.frame] = row.line
    return dict(sorted(groups.items()))


def tracks_from_label_file(
    file: LabelFile,
    placer: BoxPlacer,
    summary: LayerSummary,
    *,
    provenance: Provenance,
    status: TrackStatus,
) -> list[Track]:
    """One keyframed track per track id: a keyframe at every labelled frame, gaps as absent frames."""
    tracks: list[Track] = []
    varying_sizes = 0
    for track_id, rows in _group_by_track(file.objects, file).items():
        rows = sorted(rows, key=lambda r: r.frame)
        poses, sizes = placer.world_poses(rows)
        # One size per track (rigid objects); KITTI ground truth repeats the same size every frame,
        # a tracker's sizes may wobble, and then the median is the most robust single size.
        if np.ptp(sizes, axis=0).max() > 1e-6:
            varying_sizes += 1
        frames = [r.frame for r in rows]
        scores = [r.score for r in rows if r.score is not None]
        tracks.append(
            Track(
                track_id=str(track_id),
                label=rows[0].label,
                size=np.median(sizes, axis=0),
                motion=Keyframed(dict(zip(frames, poses, strict=True))),
                first_frame=frames[0],
                last_frame=frames[-1],
                provenance=provenance,
                status=status,
                score=float(np.mean(scores)) if scores else None,
                absent_frames=frozenset(range(frames[0], frames[-1] + 1)) - set(frames),
                frame_attributes={r.frame: _frame_attributes(r) for r in rows},
            )
        )
        summary.by_label[rows[0].label] += 1
        summary.shapes += len(rows)
    summary.tracks += len(tracks)
    if varying_sizes:
        summary.remarks.append(
            f"{varying_sizes} tracks changed size between frames; each keeps its median size"
        )
    return tracks


def dont_care_regions(file: LabelFile, camera: str, provenance: Provenance) -> list[Track2D]:
    counts: Counter[int] = Counter()
    regions: list[Track2D] = []
    for row in file.dont_care:
        x1, y1, x2, y2 = row.bbox
        regions.append(
            Track2D(
                track_id=f"{DONT_CARE.lower()}-{row.frame}-{counts[row.frame]}",
                label=DONT_CARE,
                camera=camera,
                boxes={row.frame: Box2D(x1, y1, x2 - x1, y2 - y1)},
                provenance=provenance,
                attributes={DONT_CARE_ATTRIBUTE: True},
            )
        )
        counts[row.frame] += 1
    return regions


def ground_truth_layer(file: LabelFile, placer: BoxPlacer, camera: str) -> tuple[AnnotationLayer, str]:
    provenance = Provenance("imported", "kitti-tracking")
    summary = LayerSummary("ground_truth")
    tracks = tracks_from_label_file(
        file, placer, summary, provenance=provenance, status=TrackStatus.CONFIRMED
    )
    regions = dont_care_regions(file, camera, provenance)
    summary.remarks.append(f"{len(regions)} DontCare regions kept as 2D boxes in {camera}")
    layer = AnnotationLayer(
        "ground_truth", tracks, regions, description=f"KITTI tracking labels ({file.path.name})"
    )
    return layer, summary.note()


def tracker_layer(name: str, file: LabelFile, placer: BoxPlacer) -> tuple[AnnotationLayer, str]:
    """Tracker results: one candidate track per id, scored by its mean score."""
    layer_name = f"auto:{name}"
    summary = LayerSummary(layer_name)
    tracks = tracks_from_label_file(
        file, placer, summary, provenance=Provenance("candidate", name), status=TrackStatus.CANDIDATE
    )
    if file.dont_care:
        summary.remarks.append(f"{len(file.dont_care)} DontCare lines ignored")
    layer = AnnotationLayer(layer_name, tracks, description=f"tracker results ({name}/{file.path.name})")
    return layer, summary.note()


def detection_layer(
    detector: str, rows: Sequence[LabelRow], placer: BoxPlacer
) -> tuple[AnnotationLayer, str]:
    """Per-frame detections: each one a single-frame candidate track scored by the detector."""
    layer_name = f"auto:{detector}"
    summary = LayerSummary(layer_name)
    ordered = sorted(rows, key=lambda r: r.frame)
    poses, sizes = placer.world_poses(ordered)
    per_frame: Counter[int] = Counter()
    tracks: list[Track] = []
    for row, pose, size in zip(ordered, poses, sizes, strict=True):
        track = Track.keyframed(
            f"{detector}-{row.frame:06d}-{per_frame[row.frame]}",
            row.label,
            size,
            {row.frame: pose},
            provenance=Provenance("candidate", detector),
            status=TrackStatus.CANDIDATE,
            score=row.score,
        )
        track.frame_attributes[row.frame] = _frame_attributes(row)
        tracks.append(track)
        per_frame[row.frame] += 1
        summary.by_label[row.label] += 1
    summary.tracks = summary.shapes = len(tracks)
    layer = AnnotationLayer(layer_name, tracks, description=f"{detector} detections, one candidate per box")
    return layer, summary.note()
