"""KITTI tracking ground truth -> OpenLABEL -> KITTI tracking reproduces every label line.

Both label files are parsed here, independently of the KITTI module: the same (frame, track id)
keys, the same class, and dimensions, bottom centre and rotation_y within 1e-3; the OpenLABEL file
in between must pass the official schema and load with kognic's model.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from kognic.openlabel.models import OpenLabelAnnotation

from labelpilot.formats import read_scene, write_scene
from tests.formats.test_openlabel import official_validator

SAMPLE_SEQUENCES = ("0000", "0001", "0004")
TOLERANCE = 1e-3

Box = tuple[str, list[float]]  # class, [h, w, l, x, y, z, rotation_y]


def parse_labels(path: Path) -> tuple[dict[tuple[int, int], Box], list[tuple[int, list[float]]]]:
    """Objects by (frame, id), and the DontCare regions as (frame, [x1, y1, x2, y2])."""
    objects: dict[tuple[int, int], Box] = {}
    dont_care: list[tuple[int, list[float]]] = []
    for line in path.read_text().splitlines():
        tokens = line.split()
        if not tokens:
            continue
        frame, track_id, label = int(tokens[0]), int(tokens[1]), tokens[2]
        if label == "DontCare":
            dont_care.append((frame, [float(v) for v in tokens[6:10]]))
            continue
        assert (frame, track_id) not in objects, f"{path}: two lines for frame {frame}, id {track_id}"
        objects[(frame, track_id)] = (label, [float(v) for v in tokens[10:17]])
    return objects, dont_care


def angle_gap(a: float, b: float) -> float:
    return abs((a - b + math.pi) % (2 * math.pi) - math.pi)


def round_trip(root: Path, sequence: str, work: Path) -> None:
    scene = read_scene("kitti-tracking", root, sequence)
    (openlabel_file,) = write_scene("openlabel", scene, work / "openlabel")

    document = json.loads(openlabel_file.read_text())
    errors = list(official_validator().iter_errors(document))
    assert errors == [], f"{sequence}: {errors[0].json_path}: {errors[0].message}" if errors else ""
    OpenLabelAnnotation.model_validate(document)

    back = read_scene("openlabel", openlabel_file)
    written = write_scene("kitti-tracking", back, work / "kitti")
    (label_file,) = [p for p in written if p.parent.name == "label_02"]

    expected, expected_dont_care = parse_labels(root / "training" / "label_02" / f"{sequence}.txt")
    got, got_dont_care = parse_labels(label_file)
    assert expected, f"{sequence}: the source has no objects"
    assert got.keys() == expected.keys(), f"{sequence}: (frame, id) keys differ"
    for key, (label, values) in expected.items():
        got_label, got_values = got[key]
        assert got_label == label, f"{sequence} {key}: class {got_label} != {label}"
        worst = max(abs(a - b) for a, b in zip(got_values[:6], values[:6], strict=True))
        assert worst <= TOLERANCE, f"{sequence} {key}: h w l x y z {got_values[:6]} != {values[:6]}"
        assert angle_gap(got_values[6], values[6]) <= TOLERANCE, f"{sequence} {key}: rotation_y"
    assert sorted(f for f, _ in got_dont_care) == sorted(f for f, _ in expected_dont_care)
    for (frame, box), (got_frame, got_box) in zip(
        sorted(expected_dont_care), sorted(got_dont_care), strict=True
    ):
        assert frame == got_frame and max(abs(a - b) for a, b in zip(box, got_box, strict=True)) <= TOLERANCE


@pytest.mark.parametrize("sequence", SAMPLE_SEQUENCES)
def test_kitti_openlabel_kitti_on_the_samples(sample_dir: Path, sequence: str, tmp_path: Path) -> None:
    round_trip(sample_dir / "kitti-tracking", sequence, tmp_path)


@pytest.mark.shared_data
def test_kitti_openlabel_kitti_on_every_shared_sequence(shared_data: Path, tmp_path: Path) -> None:
    root = shared_data / "kitti-tracking"
    sequences = sorted(p.stem for p in (root / "training" / "label_02").glob("*.txt"))
    assert sequences, f"no label files under {root}"
    for sequence in sequences:
        round_trip(root, sequence, tmp_path / sequence)
