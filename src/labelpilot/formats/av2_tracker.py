"""Tracker output for an Argoverse 2 log: tracker_predictions.feather -> the ``auto:tracker`` layer.

Each row is one predicted box in the CITY frame (centre, size, yaw about z) with a score and a
velocity, at 2 Hz on the log's 10 Hz frames. Every predicted track becomes a CANDIDATE track
whose keyframes are the predicted boxes; the frames between them are filled by interpolation,
which is what makes a 2 Hz tracker useful on a 10 Hz scene. Gaps where the tracker kept an id
but missed a step are spanned the same way (the tracker asserts it is one object).

The file carries no object classes, so every candidate is labelled ``unknown`` for a person
to classify on confirmation. The track's one size is the median of its predicted sizes; each
keyframe keeps its own score, size and velocity in ``frame_attributes``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from labelpilot.formats.av2_tables import FeatherTable
from labelpilot.formats.errors import FormatError
from labelpilot.geometry import Pose
from labelpilot.tracks import AnnotationLayer, AttributeValue, Provenance, Track, TrackStatus

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

TRACKER_FILE = "tracker_predictions.feather"
TRACKER_LAYER = "auto:tracker"
TRACKER_LABEL = "unknown"
TRACKER_COLUMNS = (
    "timestamp_ns", "track_id", "tx_m", "ty_m", "tz_m",
    "length_m", "width_m", "height_m", "yaw", "score",
)  # fmt: skip
VELOCITY_COLUMNS = ("vx_m_per_s", "vy_m_per_s", "vz_m_per_s")
MATCH_TOLERANCE_NS = 5_000_000
"""A prediction may sit up to 5 ms from a frame (a re-timestamped sweep); farther is an error."""


@dataclass(frozen=True)
class TrackerSummary:
    """Facts about the import, for the scene notes."""

    candidates: int
    predictions: int
    keyframe_frames: int
    exact_matches: int
    largest_offset_ns: int
    spanned_gaps: int


def match_frames(path: Path, stamps: IntArray, frame_stamps: IntArray) -> tuple[IntArray, IntArray]:
    """Frame index of each prediction (exact timestamp, else the nearest within 5 ms) and its offset."""
    right = np.clip(np.searchsorted(frame_stamps, stamps), 0, len(frame_stamps) - 1)
    left = np.clip(right - 1, 0, len(frame_stamps) - 1)
    use_left = np.abs(stamps - frame_stamps[left]) < np.abs(stamps - frame_stamps[right])
    nearest = np.where(use_left, left, right)
    offsets = stamps - frame_stamps[nearest]
    far = np.abs(offsets) > MATCH_TOLERANCE_NS
    if far.any():
        row = int(np.flatnonzero(far)[0])
        raise FormatError(
            path,
            f"row {row}: timestamp {stamps[row]} is {abs(int(offsets[row])) / 1e6:.3f} ms from the nearest "
            f"frame (at most {MATCH_TOLERANCE_NS / 1e6:g} ms allowed)",
            field="timestamp_ns",
        )
    return nearest.astype(np.int64), offsets.astype(np.int64)


def _world_poses(centers: FloatArray, yaws: FloatArray) -> FloatArray:
    """(N, 4, 4) poses rotated by yaw about the city z axis."""
    cos, sin = np.cos(yaws), np.sin(yaws)
    matrices = np.zeros((len(yaws), 4, 4))
    matrices[:, 0, 0], matrices[:, 0, 1] = cos, -sin
    matrices[:, 1, 0], matrices[:, 1, 1] = sin, cos
    matrices[:, 2, 2] = matrices[:, 3, 3] = 1.0
    matrices[:, :3, 3] = centers
    return matrices


def _keyframe_attributes(
    row: int, scores: FloatArray, sizes: FloatArray, velocities: FloatArray | None, offsets: IntArray
) -> dict[str, AttributeValue | list[float]]:
    attributes: dict[str, AttributeValue | list[float]] = {
        "score": float(scores[row]),
        "size_m": [float(v) for v in sizes[row]],
    }
    if velocities is not None:
        attributes["velocity_m_per_s"] = [float(v) for v in velocities[row]]
    if offsets[row]:
        attributes["timestamp_offset_ns"] = int(offsets[row])
    return attributes


def tracker_layer(path: Path, frame_stamps: IntArray) -> tuple[AnnotationLayer, TrackerSummary]:
    """Candidate tracks from a tracker_predictions.feather file, keyed to the scene's frames."""
    table = FeatherTable.read(path, TRACKER_COLUMNS)
    stamps = table.ints("timestamp_ns")
    track_ids = table.ids("track_id")
    centers = table.vectors(("tx_m", "ty_m", "tz_m"))
    sizes = np.stack([table.positive(c) for c in ("length_m", "width_m", "height_m")], axis=1)
    yaws = table.floats("yaw")
    scores = table.floats("score")
    velocities = table.vectors(VELOCITY_COLUMNS) if all(table.has(c) for c in VELOCITY_COLUMNS) else None
    frames, offsets = match_frames(path, stamps, frame_stamps) if len(table) else (stamps, stamps)
    world_T_box = _world_poses(centers, yaws)

    rows_of: dict[str, list[int]] = defaultdict(list)
    seen: dict[tuple[str, int], int] = {}
    for row, track_id in enumerate(track_ids):
        key = (track_id, int(frames[row]))
        if key in seen:
            raise FormatError(
                path,
                f"rows {seen[key]} and {row}: track {track_id} has two boxes at frame {key[1]}",
                field="track_id",
            )
        seen[key] = row
        rows_of[track_id].append(row)

    keyframe_frames = np.unique(frames)
    tracks: list[Track] = []
    spanned_gaps = 0
    for track_id, rows in rows_of.items():
        track_frames = frames[rows]
        # A step of the 2 Hz grid with no prediction inside the track's life is a gap it spans.
        inside = keyframe_frames[
            (keyframe_frames >= track_frames.min()) & (keyframe_frames <= track_frames.max())
        ]
        spanned_gaps += len(inside) - len(rows)
        track = Track.keyframed(
            track_id,
            TRACKER_LABEL,
            np.median(sizes[rows], axis=0),
            {int(f): Pose(world_T_box[r]) for r, f in zip(rows, track_frames, strict=True)},
            provenance=Provenance("candidate", "tracker"),
            status=TrackStatus.CANDIDATE,
            score=float(np.mean(scores[rows])),
        )
        track.frame_attributes = {
            int(f): _keyframe_attributes(r, scores, sizes, velocities, offsets)
            for r, f in zip(rows, track_frames, strict=True)
        }
        tracks.append(track)
    tracks.sort(key=lambda t: (t.first_frame, t.track_id))
    summary = TrackerSummary(
        candidates=len(tracks),
        predictions=len(table),
        keyframe_frames=len(keyframe_frames),
        exact_matches=int((offsets == 0).sum()),
        largest_offset_ns=int(np.abs(offsets).max()) if len(offsets) else 0,
        spanned_gaps=spanned_gaps,
    )
    description = f"tracker candidates from {path.name} (no classes: label '{TRACKER_LABEL}')"
    return AnnotationLayer(TRACKER_LAYER, tracks, description=description), summary
