"""Argoverse 2 ground-truth cuboids: annotations.feather -> the ``ground_truth`` layer.

Each row is one box of one track at one lidar timestamp, with its centre and rotation in the
EGO frame of that timestamp. The importer moves every box into the city (world) frame through
that frame's city_T_ego, so that a parked car keeps one pose while the ego drives past.

``annotations_with_ego.feather`` has the same columns plus one ``EGO_VEHICLE`` row per frame:
the ego's own box at the ego origin. It carries no pose (the box is identity in the ego frame),
so it is left out of the layer; the importer says so in the scene notes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from labelpilot.formats.av2_sensors import pose_matrices
from labelpilot.formats.av2_tables import FeatherTable
from labelpilot.formats.errors import FormatError
from labelpilot.geometry import Pose
from labelpilot.tracks import AnnotationLayer, AttributeValue, Keyframed, Provenance, Track, TrackStatus

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

ANNOTATION_COLUMNS = (
    "timestamp_ns", "track_uuid", "category", "length_m", "width_m", "height_m",
    "qw", "qx", "qy", "qz", "tx_m", "ty_m", "tz_m",
)  # fmt: skip
EGO_CATEGORY = "EGO_VEHICLE"
INTERIOR_POINTS = "num_interior_pts"
# Sizes are constant per track in AV2; a spread above this is kept per frame as well.
_SIZE_TOLERANCE_M = 1e-6


@dataclass(frozen=True, eq=False)
class Annotations:
    """The validated rows of an annotations file, without the ego's own box."""

    path: Path
    timestamps_ns: IntArray
    track_uuids: list[str]
    categories: list[str]
    sizes: FloatArray
    """(N, 3) length, width, height."""
    ego_T_box: FloatArray
    """(N, 4, 4) box poses in the ego frame of their timestamp."""
    interior_points: IntArray | None
    ego_rows: int
    """How many EGO_VEHICLE rows were left out."""

    def __len__(self) -> int:
        return len(self.timestamps_ns)


def read_annotations(path: Path) -> Annotations:
    """Read and check one annotations file; nothing is built from a bad file."""
    table = FeatherTable.read(path, ANNOTATION_COLUMNS)
    if len(table) == 0:
        raise FormatError(path, "has no annotation rows")
    stamps = table.ints("timestamp_ns")
    uuids = table.strings("track_uuid")
    categories = table.strings("category")
    sizes = np.stack([table.positive(c) for c in ("length_m", "width_m", "height_m")], axis=1)
    ego_T_box = pose_matrices(table.unit_quaternions_xyzw(), table.vectors(("tx_m", "ty_m", "tz_m")))
    interior = table.ints(INTERIOR_POINTS) if table.has(INTERIOR_POINTS) else None
    if interior is not None and (interior < 0).any():
        row = int(np.flatnonzero(interior < 0)[0])
        raise FormatError(path, f"row {row} is negative", field=INTERIOR_POINTS)

    keep = np.array([c != EGO_CATEGORY for c in categories], dtype=bool)
    kept_rows = np.flatnonzero(keep)
    seen: dict[tuple[int, str], int] = {}
    for row in kept_rows.tolist():
        key = (int(stamps[row]), uuids[row])
        if key in seen:
            raise FormatError(
                path,
                f"rows {seen[key]} and {row}: track {uuids[row]} has two boxes at timestamp {stamps[row]}",
                field="track_uuid",
            )
        seen[key] = row
    return Annotations(
        path=path,
        timestamps_ns=stamps[keep],
        track_uuids=[uuids[r] for r in kept_rows],
        categories=[categories[r] for r in kept_rows],
        sizes=sizes[keep],
        ego_T_box=ego_T_box[keep],
        interior_points=None if interior is None else interior[keep],
        ego_rows=int((~keep).sum()),
    )


def _track_size(annotations: Annotations, rows: list[int]) -> tuple[FloatArray, bool]:
    """The track's one size (the median over its boxes) and whether its boxes disagree on it."""
    sizes = annotations.sizes[rows]
    varies = bool(np.ptp(sizes, axis=0).max() > _SIZE_TOLERANCE_M)
    return np.median(sizes, axis=0), varies


def ground_truth_layer(
    annotations: Annotations, frame_of_timestamp: dict[int, int], world_T_ego: FloatArray
) -> AnnotationLayer:
    """One keyframed track per track_uuid, with a world-frame keyframe at every annotated frame."""
    frames = np.array([frame_of_timestamp[int(t)] for t in annotations.timestamps_ns], dtype=np.int64)
    world_T_box = world_T_ego[frames] @ annotations.ego_T_box
    rows_of: dict[str, list[int]] = defaultdict(list)
    for row, uuid in enumerate(annotations.track_uuids):
        rows_of[uuid].append(row)

    tracks: list[Track] = []
    for uuid, rows in rows_of.items():
        labels = {annotations.categories[r] for r in rows}
        if len(labels) > 1:
            raise FormatError(
                annotations.path, f"track {uuid} has several categories: {sorted(labels)}", field="category"
            )
        size, size_varies = _track_size(annotations, rows)
        track_frames = frames[rows]
        frame_attributes: dict[int, dict[str, AttributeValue | list[float]]] = {}
        for row, frame in zip(rows, track_frames.tolist(), strict=True):
            attributes: dict[str, AttributeValue | list[float]] = {}
            if annotations.interior_points is not None:
                attributes[INTERIOR_POINTS] = int(annotations.interior_points[row])
            if size_varies:
                attributes["size_m"] = [float(v) for v in annotations.sizes[row]]
            if attributes:
                frame_attributes[frame] = attributes
        first, last = int(track_frames.min()), int(track_frames.max())
        tracks.append(
            Track(
                track_id=uuid,
                label=labels.pop(),
                size=size,
                motion=Keyframed(
                    {int(f): Pose(world_T_box[r]) for r, f in zip(rows, track_frames, strict=True)}
                ),
                first_frame=first,
                last_frame=last,
                provenance=Provenance("imported", "av2"),
                status=TrackStatus.CONFIRMED,
                absent_frames=frozenset(range(first, last + 1)) - frozenset(track_frames.tolist()),
                frame_attributes=frame_attributes,
            )
        )
    tracks.sort(key=lambda t: (t.first_frame, t.track_id))
    return AnnotationLayer(
        "ground_truth", tracks, description=f"Argoverse 2 ground truth from {annotations.path.name}"
    )
