"""Hand-made KITTI tracking sequences whose cheapest labeling is known by hand.

The ego stands still (no pose file), so the sensor frame is the world frame and every number in a
test can be worked out on paper. The calibration is the bundled sample's (real KITTI).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SEQUENCE = "0000"
CAR_SIZE = (1.5, 1.6, 4.0)  # KITTI h, w, l


@dataclass(frozen=True)
class Box:
    """One labelled box in KITTI's camera frame: x right, y down (bottom centre), z forward."""

    frame: int
    x: float
    z: float
    y: float = 1.65
    rotation_y: float = 0.0


def _line(track_id: int, kind: str, box: Box, size: tuple[float, float, float], score: float | None) -> str:
    h, w, length = size
    fields = [box.frame, track_id, kind, 0, 0, -1.57, 100, 150, 200, 250, h, w, length, box.x, box.y, box.z]
    fields.append(box.rotation_y)
    if score is not None:
        fields[3:5] = [-1, -1]
        fields.append(score)
    return " ".join(f"{v:.6f}" if isinstance(v, float) else str(v) for v in fields)


def write_sequence(
    root: Path,
    sample_dir: Path,
    objects: dict[int, Sequence[Box]],
    *,
    kind: str = "Car",
    tracker: dict[int, Sequence[Box]] | None = None,
    tracker_scores: dict[int, float] | None = None,
) -> Path:
    """A KITTI tracking root with one sequence: ground truth ``objects`` and optional tracker output
    (each track's score 9.0 unless ``tracker_scores`` gives another)."""
    training = root / "training"
    (training / "calib").mkdir(parents=True)
    (training / "label_02").mkdir()
    shutil.copy(
        sample_dir / "kitti-tracking" / "training" / "calib" / "0001.txt",
        training / "calib" / f"{SEQUENCE}.txt",
    )
    lines = [_line(i, kind, b, CAR_SIZE, None) for i, boxes in objects.items() for b in boxes]
    (training / "label_02" / f"{SEQUENCE}.txt").write_text("\n".join(sorted(lines, key=_frame)) + "\n")
    if tracker is not None:
        folder = root / "tracker" / "handmade"
        folder.mkdir(parents=True)
        scores = tracker_scores or {}
        rows = [
            _line(i, kind, b, CAR_SIZE, scores.get(i, 9.0)) for i, boxes in tracker.items() for b in boxes
        ]
        (folder / f"{SEQUENCE}.txt").write_text("\n".join(sorted(rows, key=_frame)) + "\n")
    return root


def _frame(line: str) -> int:
    return int(line.split()[0])


def parked_car(frames: int = 30) -> list[Box]:
    return [Box(f, x=2.0, z=15.0) for f in range(frames)]


def car_driving_ahead(frames: int = 30, outlier: int | None = None) -> list[Box]:
    """A car driving away at 0.5 m per frame; at ``outlier`` its label sits 2 m to the side."""
    return [
        Box(f, x=2.0 + (2.0 if f == outlier else 0.0), z=10.0 + 0.5 * f, rotation_y=1.5708)
        for f in range(frames)
    ]
