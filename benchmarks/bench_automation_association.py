"""Candidate tracks from auto labels: association speed, and quality against ground truth.

    .venv/bin/python benchmarks/bench_automation_association.py [--data-dir DIR] [--frames N] [--json OUT]

- synthetic: N frames (default 1000) of a street with ~50 detections a frame (parked and moving cars,
  pedestrians, centre noise, 10 % misses, heading flips, ~5 false positives a frame); times the
  association alone and the whole ``build_candidates``, and scores both against the known tracks;
- KITTI tracking: every sequence in DIR, candidates from ``auto:pointrcnn`` against ``ground_truth``
  per class group, beside the raw detections taken as independent one-frame boxes and the
  ``auto:pointrcnn_Car_hailanyi`` tracker (cars only);
- Argoverse 2 log 3b3570b4: candidates from ``auto:tracker`` beside the tracker's own tracks and its
  boxes taken one by one, at the 2 Hz frames with predictions and at every 10 Hz frame.

Matching is on BEV centre distance (2 m vehicles, 1 m others), see tests/automation/tracking_metrics.py.
"Candidates >= 0.5" keeps the candidates whose track score is at least 0.5 (a review threshold).
DIR defaults to ../shared/data when present, else the bundled data/sample.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
# The evaluation code lives with the tests (it is never part of the product).
sys.path.insert(0, str(REPO))

from tests.automation.candidate_evaluation import (  # noqa: E402
    AV2_THRESHOLDS,
    KITTI_GROUPS,
    av2_hypotheses,
    av2_truth,
    independent_boxes,
    keyframe_frames,
    kitti_hypotheses,
    kitti_truth,
    measure,
    only_group,
)
from tests.automation.synthetic_traffic import TrafficSpec, traffic_scene  # noqa: E402
from tests.automation.tracking_metrics import DEFAULT_THRESHOLDS, Objects, merge_objects  # noqa: E402

from labelpilot.automation.association import AssociationParams, associate, frame_times  # noqa: E402
from labelpilot.automation.candidates import build_candidates  # noqa: E402
from labelpilot.automation.detections import layer_detections  # noqa: E402
from labelpilot.automation.duplicates import duplicate_mask  # noqa: E402
from labelpilot.formats import read_scene  # noqa: E402
from labelpilot.scenes import Scene  # noqa: E402
from labelpilot.tracks import AnnotationLayer, Track  # noqa: E402

SHARED_DATA = REPO.parent / "shared" / "data"
DEFAULT_DATA_DIR = SHARED_DATA if SHARED_DATA.is_dir() else REPO / "data" / "sample"
AV2_LOG = "3b3570b4-7b0b-3268-a571-b0889dbf40b6"
REVIEW_THRESHOLD = 0.5
COLUMNS = ("MOTA", "IDF1", "precision", "recall", "IDSW", "FP", "FN", "GT", "AP", "MOTP_m")

Row = dict[str, float | str]


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    out = fn()
    return out, (time.perf_counter() - start) * 1000.0


def confident(layer: AnnotationLayer) -> list[Track]:
    return [t for t in layer if t.score is not None and t.score >= REVIEW_THRESHOLD]


def _row(case: str, method: str, truth: Objects, hyp: Objects, thresholds: dict[str, float] | None = None,
         frames: Iterable[int] | None = None, ms: float | None = None) -> Row:  # fmt: skip
    measured = measure(method, truth, hyp, thresholds or DEFAULT_THRESHOLDS, frames)
    row: Row = {"case": case, "method": method, **measured.row()}
    if ms is not None:
        row["ms"] = ms
    return row


def bench_synthetic(frames: int) -> list[Row]:
    spec = TrafficSpec(frames=frames)
    scene = traffic_scene(spec)
    layer = scene.layer("auto:synthetic")
    params = AssociationParams()
    dets = layer_detections(scene, layer, params)
    times = frame_times(np.array([f.timestamp_us for f in scene.frames]), params.frame_period_s)
    usable = dets.confidences >= params.min_confidence

    def association_only() -> object:
        return associate(dets, times, params, usable & ~duplicate_mask(dets, usable))

    _, associate_ms = timed(association_only)
    _, flatten_ms = timed(lambda: layer_detections(scene, layer, params))
    candidates, build_ms = timed(lambda: build_candidates(scene, layer))
    assert isinstance(candidates, AnnotationLayer)
    case = f"synthetic {frames} frames x {len(dets) / frames:.0f} det"
    truth = kitti_truth(scene)
    return [
        {"case": case, "method": "flatten layer (ms)", "ms": flatten_ms},
        {"case": case, "method": "associate only (ms)", "ms": associate_ms},
        _row(case, "candidates (build_candidates)", truth, kitti_hypotheses(candidates), ms=build_ms),
        _row(case, f"candidates >= {REVIEW_THRESHOLD}", truth, kitti_hypotheses(confident(candidates))),
        _row(case, "raw detections", truth, independent_boxes(scene, layer, KITTI_GROUPS)),
    ]


def _kitti_sequences(root: Path) -> list[str]:
    return sorted(p.stem for p in (root / "training" / "label_02").glob("*.txt"))


def bench_kitti(data_dir: Path) -> list[Row]:
    root = data_dir / "kitti-tracking"
    rows: list[Row] = []
    parts: dict[str, list[Objects]] = {k: [] for k in ("truth", "cand", "conf", "raw", "tracker")}
    total_ms = 0.0
    for sequence in _kitti_sequences(root):
        scene = read_scene("kitti-tracking", root, sequence)
        layer = scene.layer("auto:pointrcnn")
        candidates, ms = timed(lambda scene=scene, layer=layer: build_candidates(scene, layer))
        assert isinstance(candidates, AnnotationLayer)
        total_ms += ms
        truth = kitti_truth(scene)
        hyps = {
            "cand": kitti_hypotheses(candidates),
            "conf": kitti_hypotheses(confident(candidates)),
            "raw": independent_boxes(scene, layer, KITTI_GROUPS),
            "tracker": kitti_hypotheses(scene.layer("auto:pointrcnn_Car_hailanyi")),
        }
        parts["truth"].append(truth)
        for key, hyp in hyps.items():
            parts[key].append(hyp)
        case = f"kitti {sequence} cars ({len(scene.frames)} fr, {len(layer)} det)"
        car_truth = only_group(truth, "vehicle")
        rows.append(_row(case, "candidates", car_truth, only_group(hyps["cand"], "vehicle"), ms=ms))
        rows.append(
            _row(case, f"candidates >= {REVIEW_THRESHOLD}", car_truth, only_group(hyps["conf"], "vehicle"))
        )
        rows.append(_row(case, "tracker hailanyi", car_truth, only_group(hyps["tracker"], "vehicle")))
    merged = {key: merge_objects(value) for key, value in parts.items()}
    names = {"cand": "candidates", "conf": f"candidates >= {REVIEW_THRESHOLD}", "raw": "raw detections",
             "tracker": "tracker hailanyi"}  # fmt: skip
    for group in ("vehicle", "pedestrian", "cyclist"):
        truth = only_group(merged["truth"], group)
        for key, name in names.items():
            if key == "tracker" and group != "vehicle":
                continue
            ms_value = total_ms if key == "cand" else None
            rows.append(_row(f"kitti all, {group}", name, truth, only_group(merged[key], group), ms=ms_value))
    return rows


def bench_av2(data_dir: Path) -> list[Row]:
    log = data_dir / "argoverse2" / "logs" / AV2_LOG
    if not log.is_dir():
        return []
    scene: Scene = read_scene("av2", log)
    tracker = scene.layer("auto:tracker")
    candidates, ms = timed(lambda: build_candidates(scene, tracker))
    assert isinstance(candidates, AnnotationLayer)
    rows: list[Row] = []
    for label, frames in (("2 Hz frames", keyframe_frames(tracker)), ("all 10 Hz frames", None)):
        truth = av2_truth(scene, frames)
        case = f"av2 {AV2_LOG[:8]} {label}"
        cases = [
            ("candidates", av2_hypotheses(candidates, frames), ms),
            (f"candidates >= {REVIEW_THRESHOLD}", av2_hypotheses(confident(candidates), frames), None),
            ("tracker (own ids)", av2_hypotheses(tracker, frames), None),
            (f"tracker >= {REVIEW_THRESHOLD}", av2_hypotheses(confident(tracker), frames), None),
            ("tracker boxes one by one", independent_boxes(scene, tracker, None), None),
        ]
        for name, hyp, elapsed in cases:
            rows.append(_row(case, name, truth, hyp, AV2_THRESHOLDS, frames, elapsed))
    return rows


def print_rows(rows: list[Row], console: Console) -> None:
    table = Table(title="candidate tracks: association and quality (BEV centre matching)")
    table.add_column("case")
    table.add_column("method")
    for column in (*COLUMNS, "ms"):
        table.add_column(column, justify="right")
    for row in rows:
        cells = []
        for column in (*COLUMNS, "ms"):
            value = row.get(column)
            if value is None:
                cells.append("")
            elif column in ("IDSW", "FP", "FN", "GT", "ms"):
                cells.append(f"{float(value):.0f}")
            else:
                cells.append(f"{float(value):.3f}")
        table.add_row(str(row["case"]), str(row["method"]), *cells)
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--frames", type=int, default=1000, help="frames of the synthetic street")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    rows = bench_synthetic(args.frames) + bench_kitti(args.data_dir) + bench_av2(args.data_dir)
    print_rows(rows, Console(width=200))
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
