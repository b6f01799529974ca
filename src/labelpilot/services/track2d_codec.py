"""Conversion between camera-only tracks (Track2D) and their table rows."""

from __future__ import annotations

from typing import Any

from labelpilot.store.tables import Track2DRow
from labelpilot.tracks import Box2D, Provenance, Track2D, TrackStatus


def _box_to_json(box: Box2D) -> list[Any]:
    return [float(box.left), float(box.top), float(box.width), float(box.height), box.score]


def _box_from_json(values: list[Any]) -> Box2D:
    left, top, width, height, score = values
    return Box2D(left, top, width, height, None if score is None else float(score))


def track2d_to_row(track: Track2D, layer_id: int) -> Track2DRow:
    return Track2DRow(
        layer_id=layer_id,
        key=track.track_id,
        label=track.label,
        camera=track.camera,
        boxes={str(frame): _box_to_json(box) for frame, box in sorted(track.boxes.items())},
        attributes=dict(track.attributes),
        provenance_kind=track.provenance.kind,
        provenance_source=track.provenance.source,
        status=track.status.value,
    )


def track2d_from_row(row: Track2DRow) -> Track2D:
    """The track with its source's id (2D tracks are not edited, so the key is their identity)."""
    return Track2D(
        track_id=row.key,
        label=row.label,
        camera=row.camera,
        boxes={int(frame): _box_from_json(values) for frame, values in row.boxes.items()},
        provenance=Provenance(row.provenance_kind, row.provenance_source),  # type: ignore[arg-type]
        status=TrackStatus(row.status),
        attributes=dict(row.attributes or {}),
    )
