"""Read OpenLABEL objects into one annotation layer of Tracks.

Every per-frame cuboid becomes a keyframe (its pose resolved to the scene root, LabelPilot's world);
the track's one size is the median of its cuboids' sizes. An object with ``stationary = true``
becomes a Stationary track at the world pose of its first cuboid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np

from labelpilot.formats.errors import FormatError
from labelpilot.formats.openlabel_geometry import FloatArray, cuboid_from_val, median_size
from labelpilot.formats.openlabel_names import (
    BBOX_2D,
    DEFAULT_LAYER,
    LAYER_KEY,
    PROVENANCE,
    PROVENANCE_SOURCE,
    SCORE,
    SHAPE,
    SHAPE_2D,
    STATIONARY,
    STATUS,
)
from labelpilot.geometry import Pose
from labelpilot.tracks import (
    AnnotationLayer,
    AttributeValue,
    Box2D,
    Keyframed,
    Provenance,
    Stationary,
    Track,
    Track2D,
    TrackStatus,
)

Locate = Callable[[str | None, int, str], Pose]
"""(coordinate system or None for the root, frame index, field for errors) -> root_T_system."""
FrameValue = AttributeValue | list[float]

_STATIONARY_SPREAD_M = 0.05
_VALUE_KINDS = ("num", "text", "boolean", "vec", "bbox")


@dataclass
class _Observations:
    """What the frames say about one object."""

    boxes: dict[int, tuple[Pose, FloatArray]] = field(default_factory=dict)
    attributes: dict[int, dict[str, FrameValue]] = field(default_factory=dict)
    image_boxes: dict[int, Box2D] = field(default_factory=dict)
    cameras: set[str] = field(default_factory=set)


@dataclass
class _Notes:
    """Facts worth telling a person, gathered while reading and summarised once."""

    several_cuboids: int = 0
    ignored_kinds: set[str] = field(default_factory=set)
    unnamed: int = 0
    no_shape: list[str] = field(default_factory=list)
    sizes_differ: list[str] = field(default_factory=list)
    moving_stationary: list[str] = field(default_factory=list)
    several_cameras: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        out: list[str] = []
        if self.several_cuboids:
            out.append(
                f"{self.several_cuboids} object frames have several cuboids; the one named {SHAPE!r} or the first was used"
            )
        if self.ignored_kinds:
            out.append(f"object data of kinds {', '.join(sorted(self.ignored_kinds))} was not imported")
        if self.unnamed:
            out.append(f"{self.unnamed} object data entries without a name were not imported")
        if self.no_shape:
            out.append(f"objects without any cuboid were not imported: {', '.join(self.no_shape[:10])}")
        if self.sizes_differ:
            out.append(
                "cuboid sizes differ across frames; the median size was taken for: "
                + ", ".join(self.sizes_differ[:10])
            )
        if self.moving_stationary:
            out.append(
                f"objects marked stationary move by more than {_STATIONARY_SPREAD_M} m; their first pose was kept: "
                + ", ".join(self.moving_stationary[:10])
            )
        if self.several_cameras:
            out.append(
                "2D tracks with boxes on several cameras kept the first camera: "
                + ", ".join(self.several_cameras[:10])
            )
        return out


def _value(kind: str, entry: Mapping[str, Any], notes: _Notes) -> FrameValue | None:
    """A plain value from a num/text/boolean/vec/bbox entry (None when it cannot be kept)."""
    val = entry["val"]
    if kind == "vec":
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in val):
            notes.ignored_kinds.add("vec of text")
            return None
        return [float(v) for v in val]
    if kind == "bbox":
        cx, cy, w, h = (float(v) for v in val)
        if entry.get("name") == BBOX_2D:
            return [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0]
        return [cx, cy, w, h]
    return cast(AttributeValue, val)


def _plain_data(data: Mapping[str, Any], notes: _Notes) -> dict[str, tuple[str, FrameValue]]:
    """name -> (kind, value) for the value-like entries of an object_data body."""
    out: dict[str, tuple[str, FrameValue]] = {}
    for kind, entries in data.items():
        if kind == "cuboid":
            continue
        if kind not in _VALUE_KINDS:
            notes.ignored_kinds.add(kind)
            continue
        for entry in entries:
            name = entry.get("name")
            if kind == "bbox" and name == SHAPE_2D:
                continue  # a camera-only track's own box, see _image_box
            if not name:
                notes.unnamed += 1
                continue
            value = _value(kind, entry, notes)
            if value is not None:
                out[str(name)] = (kind, value)
    return out


def _image_box(entry: Mapping[str, Any]) -> Box2D:
    """A camera-only track's box from a bbox [cx, cy, w, h] with an optional nested score."""
    cx, cy, w, h = (float(v) for v in entry["val"])
    nested: Mapping[str, Any] = entry.get("attributes") or {}
    scores = [float(n["val"]) for n in nested.get("num", []) if n.get("name") == SCORE]
    return Box2D(cx - w / 2.0, cy - h / 2.0, w, h, scores[0] if scores else None)


def _pick_cuboid(entries: list[Any], notes: _Notes) -> tuple[int, Mapping[str, Any]] | None:
    usable = [(i, e) for i, e in enumerate(entries) if e.get("val") is not None]
    if len(usable) > 1:
        notes.several_cuboids += 1
    named = [(i, e) for i, e in usable if e.get("name") == SHAPE]
    chosen = named or usable
    return chosen[0] if chosen else None


def _observe(
    ol: Mapping[str, Any], keys: list[str], locate: Locate, source: Path, notes: _Notes
) -> dict[str, _Observations]:
    objects: Mapping[str, Any] = ol.get("objects") or {}
    seen: dict[str, _Observations] = {uid: _Observations() for uid in objects}
    for index, key in enumerate(keys):
        frame_objects: Mapping[str, Any] = ol["frames"][key].get("objects") or {}
        for uid, frame_object in frame_objects.items():
            where = f"openlabel.frames.{key}.objects.{uid}"
            if uid not in objects:
                raise FormatError(source, f"object {uid!r} is not declared in openlabel.objects", field=where)
            data: Mapping[str, Any] = frame_object.get("object_data") or {}
            picked = _pick_cuboid(data.get("cuboid") or [], notes)
            if picked is not None:
                position, cuboid = picked
                cuboid_field = f"{where}.object_data.cuboid[{position}]"
                box_pose, size = cuboid_from_val(cuboid["val"], source, f"{cuboid_field}.val")
                system = cuboid.get("coordinate_system") or objects[uid].get("coordinate_system")
                world_T_system = locate(system, index, f"{cuboid_field}.coordinate_system")
                seen[uid].boxes[index] = (world_T_system @ box_pose, size)
            for position, entry in enumerate(data.get("bbox") or []):
                if entry.get("name") == SHAPE_2D:
                    try:
                        seen[uid].image_boxes[index] = _image_box(entry)
                    except ValueError as exc:
                        field_name = f"{where}.object_data.bbox[{position}].val"
                        raise FormatError(source, str(exc), field=field_name) from None
                    system = entry.get("coordinate_system") or objects[uid].get("coordinate_system")
                    if system:
                        seen[uid].cameras.add(str(system))
            values = _plain_data(data, notes)
            if values:
                seen[uid].attributes[index] = {name: value for name, (_, value) in values.items()}
    return seen


def _static_box(
    obj: Mapping[str, Any], uid: str, numbers: list[int], locate: Locate, source: Path, notes: _Notes
) -> _Observations:
    """An object-level cuboid held over the object's frame intervals (or every frame)."""
    data: Mapping[str, Any] = obj.get("object_data") or {}
    picked = _pick_cuboid(data.get("cuboid") or [], notes)
    if picked is None:
        return _Observations()
    position, cuboid = picked
    where = f"openlabel.objects.{uid}.object_data.cuboid[{position}]"
    box_pose, size = cuboid_from_val(cuboid["val"], source, f"{where}.val")
    index_of = {number: i for i, number in enumerate(numbers)}
    intervals = obj.get("frame_intervals") or [{"frame_start": numbers[0], "frame_end": numbers[-1]}]
    frames = sorted(
        index_of[n]
        for interval in intervals
        for n in range(
            int(interval.get("frame_start", numbers[0])), int(interval.get("frame_end", numbers[-1])) + 1
        )
        if n in index_of
    )
    if not frames:
        return _Observations()
    system = cuboid.get("coordinate_system") or obj.get("coordinate_system")
    world_pose = locate(system, frames[0], f"{where}.coordinate_system") @ box_pose
    return _Observations(boxes=dict.fromkeys(frames, (world_pose, size)))


@dataclass
class _TrackFields:
    status: TrackStatus = TrackStatus.CONFIRMED
    provenance_kind: str = "imported"
    provenance_source: str | None = "openlabel"
    stationary: bool = False
    score: float | None = None
    attributes: dict[str, AttributeValue] = field(default_factory=dict)


def _track_fields(obj: Mapping[str, Any], uid: str, source: Path, notes: _Notes) -> _TrackFields:
    where = f"openlabel.objects.{uid}.object_data"
    values = _plain_data(obj.get("object_data") or {}, notes)
    fields = _TrackFields()
    if PROVENANCE in values:
        fields.provenance_source = None  # the file states the provenance; its source only if it says so
    for name, (kind, value) in values.items():
        if name == STATUS:
            if value not in {s.value for s in TrackStatus}:
                known = ", ".join(s.value for s in TrackStatus)
                raise FormatError(
                    source, f"status {value!r} is not one of {known}", field=f"{where}.text.{STATUS}"
                )
            fields.status = TrackStatus(str(value))
        elif name == PROVENANCE:
            if value not in ("manual", "imported", "candidate"):
                raise FormatError(
                    source,
                    f"provenance {value!r} is not manual, imported or candidate",
                    field=f"{where}.text.{PROVENANCE}",
                )
            fields.provenance_kind = str(value)
        elif name == PROVENANCE_SOURCE:
            fields.provenance_source = str(value)
        elif name == STATIONARY:
            if kind != "boolean":
                raise FormatError(
                    source, "stationary must be a boolean", field=f"{where}.{kind}.{STATIONARY}"
                )
            fields.stationary = bool(value)
        elif name == SCORE and kind == "num":
            fields.score = float(cast(float, value))
        elif isinstance(value, list):
            notes.ignored_kinds.add("object-level vec")
        else:
            fields.attributes[name] = value
    return fields


def _build_track(
    track_id: str, label: str, observed: _Observations, fields: _TrackFields, notes: _Notes
) -> Track:
    frames = sorted(observed.boxes)
    poses = {f: observed.boxes[f][0] for f in frames}
    size, differs = median_size([observed.boxes[f][1] for f in frames])
    if differs:
        notes.sizes_differ.append(track_id)
    if fields.stationary:
        centres = np.stack([poses[f].translation for f in frames])
        if float(np.linalg.norm(centres - centres[0], axis=1).max()) > _STATIONARY_SPREAD_M:
            notes.moving_stationary.append(track_id)
    kind = cast(Literal["manual", "imported", "candidate"], fields.provenance_kind)
    return Track(
        track_id=track_id,
        label=label,
        size=size,
        motion=Stationary(poses[frames[0]]) if fields.stationary else Keyframed(poses),
        first_frame=frames[0],
        last_frame=frames[-1],
        attributes=fields.attributes,
        provenance=Provenance(kind, fields.provenance_source),
        status=fields.status,
        score=fields.score,
        absent_frames=frozenset(range(frames[0], frames[-1] + 1)) - frozenset(frames),
        frame_attributes=observed.attributes,
    )


def _build_track_2d(
    track_id: str,
    label: str,
    observed: _Observations,
    fields: _TrackFields,
    cameras: list[str],
    notes: _Notes,
) -> Track2D:
    """A camera-only track; its camera is its boxes' coordinate system, else the only camera stream."""
    named = sorted(observed.cameras)
    if len(named) > 1:
        notes.several_cameras.append(track_id)
    camera = named[0] if named else (cameras[0] if len(cameras) == 1 else "")
    kind = cast(Literal["manual", "imported", "candidate"], fields.provenance_kind)
    return Track2D(
        track_id=track_id,
        label=label,
        camera=camera,
        boxes=dict(sorted(observed.image_boxes.items())),
        provenance=Provenance(kind, fields.provenance_source),
        status=fields.status,
        attributes=fields.attributes,
    )


def read_layer(
    ol: Mapping[str, Any], keys: list[str], locate: Locate, source: Path
) -> tuple[AnnotationLayer, list[str]]:
    """The file's objects as one layer, and the notes gathered on the way.

    ``keys`` are the frame keys in frame order; frame index i is ``keys[i]``.
    """
    notes = _Notes()
    objects: Mapping[str, Any] = ol.get("objects") or {}
    observed = _observe(ol, keys, locate, source, notes)
    numbers = [int(key) for key in keys]
    names = [str(obj["name"]) for obj in objects.values()]
    unique_names = len(set(names)) == len(names)
    extra: list[str] = [] if unique_names else ["object names repeat, so track ids are the object uids"]
    streams: Mapping[str, Any] = ol.get("streams") or {}
    camera_streams = [n for n, s in streams.items() if s.get("type") == "camera"]
    tracks: list[Track] = []
    tracks_2d: list[Track2D] = []
    for (uid, obj), name in zip(objects.items(), names, strict=True):
        seen = observed[uid]
        if not seen.boxes:
            static = _static_box(obj, uid, numbers, locate, source, notes)
            seen.boxes = static.boxes
        track_id = name if unique_names else uid
        fields = _track_fields(obj, uid, source, notes)
        if seen.boxes:
            tracks.append(_build_track(track_id, str(obj["type"]), seen, fields, notes))
        elif seen.image_boxes:
            tracks_2d.append(_build_track_2d(track_id, str(obj["type"]), seen, fields, camera_streams, notes))
        else:
            notes.no_shape.append(track_id)
    metadata: Mapping[str, Any] = ol["metadata"]
    layer_name = metadata.get(LAYER_KEY)
    comment = metadata.get("comment")
    layer = AnnotationLayer(
        layer_name if isinstance(layer_name, str) and layer_name else DEFAULT_LAYER,
        tracks,
        tracks_2d,
        description=comment if isinstance(comment, str) else f"OpenLABEL import from {source.name}",
    )
    return layer, extra + notes.summary()
