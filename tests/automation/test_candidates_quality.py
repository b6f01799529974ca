"""How good candidates are, measured against ground truth (which only the tests read).

Lower bounds come from a first honest run with the default parameters (benchmarks/bench_automation_association.py
prints the full tables), with headroom; the measured value is in each comment. "Reviewed" candidates are those
with a track score of at least 0.5.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from labelpilot.automation.candidates import build_candidates
from labelpilot.formats import read_scene
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Track
from tests.automation.candidate_evaluation import (
    AV2_THRESHOLDS,
    KITTI_GROUPS,
    Measured,
    av2_hypotheses,
    av2_truth,
    independent_boxes,
    keyframe_frames,
    kitti_hypotheses,
    kitti_truth,
    measure,
    only_group,
)
from tests.automation.synthetic_traffic import TrafficSpec, traffic_scene

AV2_TRACKER_LOG = "3b3570b4-7b0b-3268-a571-b0889dbf40b6"
REVIEW = 0.5


def _reviewed(layer: AnnotationLayer) -> list[Track]:
    return [t for t in layer if t.score is not None and t.score >= REVIEW]


@functools.cache
def _kitti_cars(root: Path, sequence: str) -> dict[str, Measured]:
    """Car metrics of candidates (all, reviewed), raw detections and the source tracker on one sequence."""
    scene = read_scene("kitti-tracking", root, sequence)
    layer = scene.layer("auto:pointrcnn")
    candidates = build_candidates(scene, layer)
    truth = only_group(kitti_truth(scene), "vehicle")
    hyps = {
        "candidates": kitti_hypotheses(candidates),
        "reviewed": kitti_hypotheses(_reviewed(candidates)),
        "raw": independent_boxes(scene, layer, KITTI_GROUPS),
        "tracker": kitti_hypotheses(scene.layer("auto:pointrcnn_Car_hailanyi")),
    }
    return {name: measure(name, truth, only_group(hyp, "vehicle")) for name, hyp in hyps.items()}


@functools.cache
def _av2(log: Path) -> tuple[Scene, AnnotationLayer]:
    scene = read_scene("av2", log)
    return scene, build_candidates(scene, scene.layer("auto:tracker"))


def test_kitti_0001_cars(sample_dir: Path) -> None:
    m = _kitti_cars(sample_dir / "kitti-tracking", "0001")
    cand, reviewed, raw, tracker = (m[k].counts for k in ("candidates", "reviewed", "raw", "tracker"))
    assert cand.recall >= 0.90  # 0.958
    assert reviewed.recall >= 0.90  # 0.947
    assert reviewed.mota >= 0.45  # 0.551
    assert reviewed.idf1 >= 0.70  # 0.793
    assert reviewed.precision >= 0.60  # 0.706
    # Association: identities where the raw detections have none, no more switches than the tracker.
    assert raw.idf1 < 0.1  # 0.025
    assert reviewed.idf1 >= raw.idf1 + 0.5
    assert reviewed.id_switches <= tracker.id_switches  # 4 vs 7
    assert reviewed.mota >= raw.mota + 0.8  # 0.551 vs -0.639
    # Scoring: the score ranks false candidates low.
    assert reviewed.mota >= cand.mota + 0.2  # 0.551 vs 0.190
    assert m["candidates"].ap >= 0.75  # 0.841


def test_kitti_0004_cars(sample_dir: Path) -> None:
    m = _kitti_cars(sample_dir / "kitti-tracking", "0004")
    reviewed, raw = m["reviewed"].counts, m["raw"].counts
    assert reviewed.recall >= 0.90  # 0.943
    assert reviewed.mota >= 0.65  # 0.759
    assert reviewed.idf1 >= 0.80  # 0.887
    assert reviewed.id_switches <= m["tracker"].counts.id_switches  # 0 vs 4
    assert reviewed.mota >= raw.mota + 0.8


@pytest.mark.shared_data
@pytest.mark.parametrize("sequence", ["0006", "0010"])
def test_kitti_validation_sequences(shared_data: Path, sequence: str) -> None:
    """Sequences of the AB3DMOT validation split (the detector did not train on them)."""
    m = _kitti_cars(shared_data / "kitti-tracking", sequence)
    reviewed = m["reviewed"].counts
    assert reviewed.recall >= 0.85  # 0.985, 0.915
    assert reviewed.mota >= 0.70  # 0.802, 0.884
    assert reviewed.id_switches <= m["tracker"].counts.id_switches  # 0 vs 0 on both


def test_ground_truth_fed_as_detections_comes_back(sample_dir: Path) -> None:
    """A sanity check of association and metrics together: perfect detections give perfect tracks."""
    scene = read_scene("kitti-tracking", sample_dir / "kitti-tracking", "0001")
    as_detections = AnnotationLayer("auto:copy", list(scene.layer("ground_truth").tracks))
    counts = measure(
        "gt", kitti_truth(scene), kitti_hypotheses(build_candidates(scene, as_detections))
    ).counts
    assert counts.mota >= 0.99  # 1.000
    assert counts.id_switches == 0


@pytest.mark.parametrize("frames", ["2 Hz", "10 Hz"])
def test_av2_tracker_candidates(sample_dir: Path, frames: str) -> None:
    scene, candidates = _av2(sample_dir / "argoverse2" / "logs" / AV2_TRACKER_LOG)
    tracker = scene.layer("auto:tracker")
    wanted = keyframe_frames(tracker) if frames == "2 Hz" else None
    truth = av2_truth(scene, wanted)

    def run(name: str, hyp: list[Track] | AnnotationLayer) -> Measured:
        return measure(name, truth, av2_hypotheses(hyp, wanted), AV2_THRESHOLDS, wanted)

    cand = run("candidates", candidates).counts
    own_ids = run("tracker", tracker).counts
    assert cand.precision >= 0.65  # 0.737 (2 Hz), 0.734 (10 Hz)
    assert cand.recall >= 0.27  # 0.343, 0.331
    assert cand.mota >= 0.15  # 0.213, 0.209
    assert cand.idf1 >= 0.35  # 0.433, 0.422
    # Against the tracker's own tracks taken whole: duplicates suppressed, weak tracks scored out.
    assert cand.mota >= own_ids.mota + 1.0  # 0.213 vs -1.556
    assert cand.id_switches * 3 <= own_ids.id_switches  # 16 vs 119
    if frames == "2 Hz":
        one_by_one = measure("boxes", truth, independent_boxes(scene, tracker, None), AV2_THRESHOLDS, wanted)
        assert cand.idf1 >= one_by_one.counts.idf1 + 0.3  # 0.433 vs 0.018


def test_synthetic_street_is_recovered() -> None:
    scene = traffic_scene(TrafficSpec(frames=200, seed=1))
    layer = scene.layer("auto:synthetic")
    candidates = build_candidates(scene, layer)
    truth = kitti_truth(scene)
    cand = measure("candidates", truth, kitti_hypotheses(candidates)).counts
    reviewed = measure("reviewed", truth, kitti_hypotheses(_reviewed(candidates))).counts
    raw = measure("raw", truth, independent_boxes(scene, layer, KITTI_GROUPS)).counts
    assert cand.recall >= 0.97  # 0.997
    assert reviewed.mota >= 0.95  # 0.993
    assert reviewed.idf1 >= 0.95  # 0.994
    assert reviewed.id_switches <= 10  # 2
    assert raw.mota < 0.0 and raw.recall < cand.recall  # -0.141, 0.907
