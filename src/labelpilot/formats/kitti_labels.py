"""KITTI tracking label lines: ground truth (17 columns), results (18, with a score) and
AB3DMOT-style detections (15 comma-separated columns). Parsing and formatting only; no geometry.

Label and result line: ``frame track_id type truncated occluded alpha x1 y1 x2 y2 h w l x y z rotation_y [score]``.
Detection line: ``frame,type,x1,y1,x2,y2,score,h,w,l,x,y,z,rotation_y,alpha`` with type 1=Pedestrian,
2=Car, 3=Cyclist. Results mark unknown values with truncated = occluded = -1 and alpha = -10; those
are read as "not given" (None).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from labelpilot.formats.errors import FormatError
from labelpilot.formats.kitti_parsing import parse_float, parse_int, read_lines
from labelpilot.geometry import normalize_yaw

FloatArray = NDArray[np.float64]

KITTI_TYPES = ("Car", "Van", "Truck", "Pedestrian", "Person_sitting", "Person", "Cyclist", "Tram", "Misc")
"""Object types of the KITTI devkit; ``Person`` also occurs in some tracking training sequences."""
DONT_CARE = "DontCare"
DETECTION_TYPES = {1: "Pedestrian", 2: "Car", 3: "Cyclist"}

LABEL_FIELDS = (
    "frame", "track_id", "type", "truncated", "occluded", "alpha", "x1", "y1", "x2", "y2",
    "h", "w", "l", "x", "y", "z", "rotation_y", "score",
)  # fmt: skip
DETECTION_FIELDS = (
    "frame", "type", "x1", "y1", "x2", "y2", "score", "h", "w", "l", "x", "y", "z", "rotation_y", "alpha",
)  # fmt: skip

_UNKNOWN_ALPHA = -10.0


@dataclass(frozen=True)
class LabelRow:
    """One object in one frame, as the file states it (rotation_y normalised to (-pi, pi])."""

    line: int
    frame: int
    track_id: int
    label: str
    bbox: tuple[float, float, float, float]
    dims_hwl: tuple[float, float, float]
    bottom: tuple[float, float, float]
    rotation_y: float
    truncated: float | None = None
    occluded: int | None = None
    alpha: float | None = None
    score: float | None = None


@dataclass
class LabelFile:
    path: Path
    objects: list[LabelRow] = field(default_factory=list)
    dont_care: list[LabelRow] = field(default_factory=list)

    @property
    def max_frame(self) -> int:
        """The highest frame index any line names, -1 for an empty file."""
        return max((r.frame for r in [*self.objects, *self.dont_care]), default=-1)


def _row(values: dict[str, str], path: Path, line: int, track_id: int, label: str) -> LabelRow:
    def num(name: str) -> float:
        return parse_float(values[name], path, line, name)

    frame = parse_int(values["frame"], path, line, "frame")
    if frame < 0:
        raise FormatError(path, f"frame must not be negative, got {frame}", line=line, field="frame")
    dims = (num("h"), num("w"), num("l"))
    for name, value in zip("hwl", dims, strict=True):
        if value < 0 and label != DONT_CARE:
            raise FormatError(
                path, f"a box dimension must not be negative, got {value}", line=line, field=name
            )
    truncated = num("truncated") if "truncated" in values else -1.0
    occluded = parse_int(values["occluded"], path, line, "occluded") if "occluded" in values else -1
    alpha = num("alpha")
    return LabelRow(
        line=line,
        frame=frame,
        track_id=track_id,
        label=label,
        bbox=(num("x1"), num("y1"), num("x2"), num("y2")),
        dims_hwl=dims,
        bottom=(num("x"), num("y"), num("z")),
        rotation_y=float(normalize_yaw(num("rotation_y"))),
        truncated=None if truncated < 0 else truncated,
        occluded=None if occluded < 0 else occluded,
        alpha=None if alpha == _UNKNOWN_ALPHA else alpha,
        score=num("score") if "score" in values else None,
    )


def read_label_file(path: Path, *, with_score: bool) -> LabelFile:
    """A label file (17 columns) or, ``with_score``, a result file (18 columns)."""
    columns = 18 if with_score else 17
    names = LABEL_FIELDS[:columns]
    out = LabelFile(path)
    for line, text in read_lines(path):
        tokens = text.split()
        if len(tokens) != columns:
            raise FormatError(path, f"expected {columns} columns, got {len(tokens)}", line=line)
        values = dict(zip(names, tokens, strict=True))
        label = values["type"]
        if label == DONT_CARE:
            out.dont_care.append(_row(values, path, line, -1, label))
            continue
        if label not in KITTI_TYPES:
            known = ", ".join((*KITTI_TYPES, DONT_CARE))
            raise FormatError(path, f"unknown class {label!r} (known: {known})", line=line, field="type")
        track_id = parse_int(values["track_id"], path, line, "track_id")
        if track_id < 0:
            raise FormatError(
                path, f"an object needs a track id >= 0, got {track_id}", line=line, field="track_id"
            )
        out.objects.append(_row(values, path, line, track_id, label))
    return out


def read_detection_file(path: Path) -> list[LabelRow]:
    """An AB3DMOT detection file; every detection gets track_id -1 (detections have no identity)."""
    rows: list[LabelRow] = []
    for line, text in read_lines(path):
        tokens = [t.strip() for t in text.split(",")]
        if len(tokens) != len(DETECTION_FIELDS):
            raise FormatError(path, f"expected {len(DETECTION_FIELDS)} columns, got {len(tokens)}", line=line)
        values = dict(zip(DETECTION_FIELDS, tokens, strict=True))
        code = parse_int(values["type"], path, line, "type")
        if code not in DETECTION_TYPES:
            known = ", ".join(f"{k}={v}" for k, v in DETECTION_TYPES.items())
            raise FormatError(path, f"unknown class code {code} (known: {known})", line=line, field="type")
        rows.append(_row(values, path, line, -1, DETECTION_TYPES[code]))
    return rows


# --- writing -----------------------------------------------------------------------------------


def _level(value: float) -> str:
    """Truncation as KITTI tracking writes it: an integer level where it is one, else a fraction."""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def format_label_line(
    frame: int,
    track_id: int,
    label: str,
    bbox: tuple[float, float, float, float],
    dims_hwl: FloatArray,
    bottom: FloatArray,
    rotation_y: float,
    *,
    truncated: float,
    occluded: int,
    alpha: float,
    score: float | None = None,
) -> str:
    numbers = [alpha, *bbox, *dims_hwl.tolist(), *bottom.tolist(), rotation_y]
    text = f"{frame} {track_id} {label} {_level(truncated)} {occluded} " + " ".join(
        f"{v:.6f}" for v in numbers
    )
    return text if score is None else f"{text} {score:.6f}"


def format_dont_care_line(frame: int, bbox: tuple[float, float, float, float]) -> str:
    """A DontCare region with KITTI's fixed filler values."""
    box = " ".join(f"{v:.6f}" for v in bbox)
    filler = "-1000.000000 -1000.000000 -1000.000000 -10.000000 -1.000000 -1.000000 -1.000000"
    return f"{frame} -1 {DONT_CARE} -1 -1 -10.000000 {box} {filler}"


_SYNONYMS = {
    "vehicle": "Car",
    "regular_vehicle": "Car",
    "bus": "Truck",
    "box_truck": "Truck",
    "large_vehicle": "Truck",
    "bicyclist": "Cyclist",
    "motorcyclist": "Cyclist",
    "person": "Person",
    "person_sitting": "Person_sitting",
}


def kitti_type(label: str) -> str:
    """The KITTI type to write for a label: itself, a case-insensitive or common-synonym match, else Misc."""
    lowered = label.strip().lower()
    for known in KITTI_TYPES:
        if known.lower() == lowered:
            return known
    return _SYNONYMS.get(lowered.replace(" ", "_"), "Misc")
