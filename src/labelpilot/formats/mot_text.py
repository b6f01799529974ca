"""MOTChallenge text lines: parse ``frame,id,bb_left,bb_top,bb_width,bb_height,conf,...`` and write them.

Two column layouts, told apart by the number of values per line:
- 10 values (MOT15 ground truth, tracker results, detections): ``...,conf,x,y,z``; x, y, z are world
  coordinates, -1 where unknown. Every object is a pedestrian (MOTChallenge results carry no class).
- 9 values (MOT16/17/20 ground truth): ``...,conf,class,visibility``; ``conf`` is the 0/1 "consider"
  flag, ``class`` maps through ``MOT_CLASSES``.
Frames are 1-based in the files (0-based in scenes). Ids are positive; -1 marks a detection (no track).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from labelpilot.formats.errors import FormatError
from labelpilot.tracks import Box2D, Track2D

DEFAULT_LABEL = "pedestrian"
DETECTION_ATTRIBUTE = "mot_detection"
"""Track2D attribute marking a one-box track read from a detection row (id -1); written back as -1."""
MOT_CLASSES: dict[int, str] = {
    1: "pedestrian",
    2: "person_on_vehicle",
    3: "car",
    4: "bicycle",
    5: "motorbike",
    6: "non_motorized_vehicle",
    7: "static_person",
    8: "distractor",
    9: "occluder",
    10: "occluder_on_the_ground",
    11: "occluder_full",
    12: "reflection",
    13: "crowd",  # MOT20
}
"""Class ids of MOT16/17/20 ground truth (column 8 of the 9-value layout)."""
CLASS_IDS = {name: class_id for class_id, name in MOT_CLASSES.items()}
_UNKNOWN_CLASS_PREFIX = "mot_class_"


@dataclass(frozen=True)
class MotRow:
    line: int
    frame: int
    """1-based, as in the file."""
    track_id: int
    box: Box2D
    extra: tuple[float, ...]
    """x, y, z (10-value layout) or class, visibility (9-value layout)."""


def class_label(class_id: int) -> str:
    return MOT_CLASSES.get(class_id, f"{_UNKNOWN_CLASS_PREFIX}{class_id}")


def class_id(label: str) -> int | None:
    """The MOT class id of a label (case and spaces ignored), or None when it has none."""
    key = label.strip().lower().replace(" ", "_")
    if key in CLASS_IDS:
        return CLASS_IDS[key]
    number = key.removeprefix(_UNKNOWN_CLASS_PREFIX)
    return int(number) if key.startswith(_UNKNOWN_CLASS_PREFIX) and number.isdigit() else None


def _integer(path: Path, line: int, text: str, what: str) -> int:
    value = float(text)
    if not value.is_integer():
        raise FormatError(path, f"{what} must be a whole number, got {text}", line=line, field=what)
    return int(value)


def parse_line(path: Path, line: int, text: str) -> MotRow:
    # MOTChallenge files are comma-separated; some tools write spaces instead.
    parts = [p.strip() for p in text.split(",")] if "," in text else text.split()
    if len(parts) not in (9, 10):
        raise FormatError(path, f"expected 9 or 10 comma-separated values, got {len(parts)}", line=line)
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise FormatError(path, f"not a number among {text.strip()!r}", line=line) from None
    if not all(math.isfinite(v) for v in values):
        raise FormatError(path, f"NaN or infinite value in {text.strip()!r}", line=line)
    frame = _integer(path, line, parts[0], "frame")
    if frame < 1:
        raise FormatError(path, f"frames are 1-based, got {frame}", line=line, field="frame")
    track_id = _integer(path, line, parts[1], "id")
    if track_id < 1 and track_id != -1:
        raise FormatError(
            path, f"ids are positive (or -1 for detections), got {track_id}", line=line, field="id"
        )
    left, top, width, height, conf = values[2:7]
    if width < 0 or height < 0:
        field = "bb_width" if width < 0 else "bb_height"
        raise FormatError(path, f"negative box size {width} x {height}", line=line, field=field)
    if len(parts) == 9:
        _integer(path, line, parts[7], "class")
    return MotRow(line, frame, track_id, Box2D(left, top, width, height, conf), tuple(values[7:]))


def parse_file(path: Path) -> list[MotRow]:
    """Every non-blank line of a MOTChallenge file, checked (one layout, no id twice in a frame)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FormatError(path, "not UTF-8 text") from None
    rows = [parse_line(path, n, t) for n, t in enumerate(text.splitlines(), start=1) if t.strip()]
    if len({len(r.extra) for r in rows}) > 1:
        first = rows[0]
        odd = next(r for r in rows if len(r.extra) != len(first.extra))
        raise FormatError(
            path,
            f"{7 + len(odd.extra)} values where line {first.line} has {7 + len(first.extra)}",
            line=odd.line,
        )
    seen: dict[tuple[int, int], int] = {}
    for r in rows:
        if r.track_id != -1 and (r.frame, r.track_id) in seen:
            raise FormatError(
                path,
                f"id {r.track_id} appears twice in frame {r.frame} (first on line {seen[r.frame, r.track_id]})",
                line=r.line,
            )
        seen[r.frame, r.track_id] = r.line
    return rows


def _number(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _mot_ids(tracks: list[Track2D]) -> dict[str, int]:
    """Positive integer ids: a track keeps its id when it is one, the others get fresh ones."""
    ids: dict[str, int] = {}
    for t in tracks:
        if t.attributes.get(DETECTION_ATTRIBUTE) is True:
            ids[t.track_id] = -1
        elif t.track_id.isdigit() and int(t.track_id) >= 1:
            ids[t.track_id] = int(t.track_id)
    next_id = max([0, *ids.values()]) + 1
    for t in sorted(tracks, key=lambda t: t.track_id):
        if t.track_id not in ids:
            ids[t.track_id] = next_id
            next_id += 1
    return ids


def mot_lines(tracks: list[Track2D]) -> list[str]:
    """The MOTChallenge lines for ``tracks``, sorted by frame then id.

    The 9-value layout (class ids, visibility -1 = unknown) is written when every label has a MOT class
    and not all are pedestrians; otherwise the 10-value layout, which carries no class.
    """
    classes = {t.label: class_id(t.label) for t in tracks}
    nine_values = all(c is not None for c in classes.values()) and any(c != 1 for c in classes.values())
    ids = _mot_ids(tracks)
    rows: list[tuple[int, int, str]] = []
    for t in tracks:
        tail = [str(classes[t.label]), "-1"] if nine_values else ["-1", "-1", "-1"]
        for frame, box in t.boxes.items():
            conf = -1.0 if box.score is None else box.score
            values = [str(frame + 1), str(ids[t.track_id])]
            values += [_number(v) for v in (box.left, box.top, box.width, box.height, conf)]
            rows.append((frame, ids[t.track_id], ",".join(values + tail)))
    return [line for _, _, line in sorted(rows)]
