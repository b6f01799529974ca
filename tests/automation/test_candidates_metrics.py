"""The evaluation metrics themselves, on cases small enough to work out by hand from the definitions."""

from __future__ import annotations

import numpy as np
import pytest

from tests.automation.tracking_metrics import (
    IGNORE,
    FrameObjects,
    Objects,
    average_precision,
    evaluate,
    merge_objects,
)

Box = tuple[int, str, float, float, str] | tuple[int, str, float, float, str, float]


def _objects(*boxes: Box) -> Objects:
    """Boxes as (frame, id, x, y, group[, score])."""
    out: Objects = {}
    for box in boxes:
        bucket = out.setdefault(box[0], FrameObjects())
        bucket.ids.append(box[1])
        bucket.centers.append(np.array([box[2], box[3]], dtype=np.float64))
        bucket.groups.append(box[4])
        bucket.scores.append(float(box[5]) if len(box) == 6 else 0.0)
    return out


def test_perfect_hypotheses() -> None:
    truth = _objects(
        *[(f, "a", f * 1.0, 0.0, "vehicle") for f in range(5)],
        *[(f, "b", 0.0, 10.0, "vehicle") for f in range(3)],
    )
    hyp = _objects(
        *[(f, "x", f * 1.0 + 0.5, 0.0, "vehicle") for f in range(5)],
        *[(f, "y", 0.0, 10.0, "vehicle") for f in range(3)],
    )
    counts = evaluate(truth, hyp)
    assert (counts.gt, counts.matches, counts.false_positives, counts.misses, counts.id_switches) == (
        8,
        8,
        0,
        0,
        0,
    )
    assert counts.mota == 1.0 and counts.idf1 == 1.0
    assert counts.motp == pytest.approx(0.5 * 5 / 8)


def test_an_id_switch_costs_mota_and_idf1() -> None:
    # One object for 4 frames, followed by hypothesis x for 2 frames, then by y.
    truth = _objects(*[(f, "a", 0.0, 0.0, "vehicle") for f in range(4)])
    hyp = _objects(
        (0, "x", 0, 0, "vehicle"),
        (1, "x", 0, 0, "vehicle"),
        (2, "y", 0, 0, "vehicle"),
        (3, "y", 0, 0, "vehicle"),
    )
    counts = evaluate(truth, hyp)
    assert counts.id_switches == 1
    assert counts.mota == pytest.approx(1 - 1 / 4)
    # IDF1: a pairs with one of x, y for 2 frames: 2 * 2 / (4 + 4).
    assert counts.idtp == 2
    assert counts.idf1 == pytest.approx(0.5)


def test_too_far_is_a_miss_and_a_false_positive() -> None:
    truth = _objects(*[(f, "a", 0.0, 0.0, "pedestrian") for f in range(3)])
    hyp = _objects(*[(f, "x", 1.5, 0.0, "pedestrian") for f in range(3)])  # 1.5 m > 1 m for pedestrians
    counts = evaluate(truth, hyp)
    assert (counts.misses, counts.false_positives) == (3, 3)
    assert counts.mota == pytest.approx(1 - 6 / 3)
    vehicle = evaluate(_objects((0, "a", 0, 0, "vehicle")), _objects((0, "x", 1.5, 0, "vehicle")))
    assert vehicle.matches == 1  # 1.5 m < 2 m for vehicles


def test_classes_must_agree_and_wildcards_match_any() -> None:
    truth = _objects((0, "a", 0, 0, "vehicle"))
    assert evaluate(truth, _objects((0, "x", 0, 0, "pedestrian"))).matches == 0
    assert evaluate(truth, _objects((0, "x", 0, 0, "__any__"))).matches == 1


def test_ignored_truth_absorbs_hypotheses() -> None:
    truth = _objects((0, "van", 0, 0, IGNORE), (0, "a", 10, 0, "vehicle"))
    hyp = _objects((0, "x", 0.5, 0, "vehicle"), (0, "y", 10, 0, "vehicle"), (0, "z", 30, 0, "vehicle"))
    counts = evaluate(truth, hyp)
    assert (counts.gt, counts.matches, counts.false_positives, counts.ignored_hyps) == (1, 1, 1, 1)
    assert counts.hyp == 2  # x is left out of IDF1 too
    assert counts.idf1 == pytest.approx(2 * 1 / (1 + 2))


def test_previous_match_is_kept_while_in_reach() -> None:
    # Frame 1 has a closer hypothesis y, but x is still within 2 m: CLEAR MOT keeps a <-> x.
    truth = _objects((0, "a", 0, 0, "vehicle"), (1, "a", 0, 0, "vehicle"))
    hyp = _objects((0, "x", 0, 0, "vehicle"), (1, "x", 1.5, 0, "vehicle"), (1, "y", 0.1, 0, "vehicle"))
    counts = evaluate(truth, hyp)
    assert (counts.id_switches, counts.false_positives, counts.matches) == (0, 1, 2)


def test_average_precision_by_hand() -> None:
    truth = _objects((0, "a", 0, 0, "vehicle"), (0, "b", 10, 0, "vehicle"))
    hyp = _objects(
        (0, "p", 0, 0, "vehicle", 0.9), (0, "q", 50, 0, "vehicle", 0.8), (0, "r", 10, 0, "vehicle", 0.7)
    )
    # Ranked: TP, FP, TP -> precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1; envelope 1, 2/3, 2/3.
    assert average_precision(truth, hyp) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_merged_sequences_add_up() -> None:
    first = (_objects((0, "a", 0, 0, "vehicle")), _objects((0, "a", 0, 0, "vehicle")))
    second = (_objects((0, "a", 0, 0, "vehicle")), _objects((0, "a", 50, 0, "vehicle")))
    merged = evaluate(merge_objects([first[0], second[0]]), merge_objects([first[1], second[1]]))
    assert (merged.gt, merged.matches, merged.false_positives, merged.id_switches) == (2, 1, 1, 0)
    assert merged.gt_ids == 2  # the same id in two sequences is two objects
