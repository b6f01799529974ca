"""Stationary detection and size priors on real data: time, precision, recall, calibration, size flags.

    .venv/bin/python benchmarks/bench_automation_stationary.py [--data-dir DIR] [--seed N] [--json OUT]
    .venv/bin/python benchmarks/bench_automation_stationary.py --print-size-priors

DIR defaults to ../shared/data when present (every KITTI tracking sequence and Argoverse 2 log), else
the bundled data/sample. Ground truth only measures: the truth rule, the detection noise model and the
matching of auto tracks live in tests/automation/stationary_evaluation.py (read its doc).

* timing: ``classify_layer`` over every layer of every scene (ground truth, raw detections, trackers);
* accuracy: precision and recall of "stationary" (the positive class) per data set and source:
  ground-truth tracks turned into simulated detections; the real tracker layers (KITTI
  ``auto:pointrcnn_Car_hailanyi``, Argoverse 2 ``auto:tracker``) matched to ground truth; KITTI
  candidates built by ``labelpilot.automation.candidates`` from the raw PointRCNN detections (judged
  on their raw ``det_*`` detections). KITTI uses the visual-odometry defaults; Argoverse 2 the exact-pose
  settings (``scale_drift=0``) and, for comparison, the defaults and the strict truth (0.5 m, no speed clause);
* calibration: observed stationary share per bin of ``p_stationary``;
* size priors: share of ground-truth tracks the built-in priors flag (z = 3) and PointRCNN detections flagged.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the evaluation helpers live with the tests

from tests.automation.stationary_evaluation import (  # noqa: E402
    KITTI_MAX_DRIFT,
    Confusion,
    layer_truth,
    matched_truth,
    score_verdicts,
    simulated_verdicts,
)

from labelpilot.automation.candidates import build_candidates  # noqa: E402
from labelpilot.automation.size_priors import SizePriors, size_statistics  # noqa: E402
from labelpilot.automation.stationary import classify_layer  # noqa: E402
from labelpilot.formats import read_scene  # noqa: E402
from labelpilot.scenes import Scene  # noqa: E402

SHARED_DATA = REPO.parent / "shared" / "data"
DEFAULT_DATA_DIR = SHARED_DATA if SHARED_DATA.is_dir() else REPO / "data" / "sample"
TRACKER_LAYERS = {"kitti": "auto:pointrcnn_Car_hailanyi", "av2": "auto:tracker"}
EXACT_POSES = {"pose_noise_m": 0.5, "scale_drift": 0.0}
VISUAL_ODOMETRY = {"pose_noise_m": 0.5, "scale_drift": 0.06}


def load_scenes(data_dir: Path) -> Iterator[tuple[str, Scene]]:
    """("kitti" | "av2", scene) for every KITTI tracking sequence and Argoverse 2 log under ``data_dir``."""
    kitti = data_dir / "kitti-tracking"
    for labels in sorted((kitti / "training" / "label_02").glob("*.txt")):
        yield "kitti", read_scene("kitti-tracking", kitti, labels.stem)
    for log in sorted((data_dir / "argoverse2" / "logs").glob("*")):
        if log.is_dir():
            yield "av2", read_scene("av2", log)


def time_layers(scenes: list[tuple[str, Scene]]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for dataset, scene in scenes:
        settings = VISUAL_ODOMETRY if dataset == "kitti" else EXACT_POSES
        for name, layer in scene.layers.items():
            if not layer.tracks:
                continue
            start = time.perf_counter()
            verdicts = classify_layer(scene, layer, **settings)
            ms = (time.perf_counter() - start) * 1000.0
            rows.append({
                "scene": scene.name[:8], "layer": name, "tracks": len(verdicts),
                "stationary": sum(v.stationary for v in verdicts.values()), "ms": ms,
            })  # fmt: skip
    return rows


def measure_accuracy(scenes: list[tuple[str, Scene]], seed: int) -> dict[str, Confusion]:
    rng = np.random.default_rng(seed)
    out: dict[str, Confusion] = {}

    def add(key: str, confusion: Confusion) -> None:
        out.setdefault(key, Confusion()).merge(confusion)

    for dataset, scene in scenes:
        truth_layer = scene.layer("ground_truth")
        drift = KITTI_MAX_DRIFT if dataset == "kitti" else 0.0
        truth = layer_truth(scene, truth_layer, drift)
        settings = VISUAL_ODOMETRY if dataset == "kitti" else EXACT_POSES
        add(
            f"{dataset} ground truth + simulated noise",
            score_verdicts(simulated_verdicts(scene, rng, **settings), truth),
        )
        if dataset == "av2":
            strict = layer_truth(scene, truth_layer, drift, speed_clause=False)
            add(
                "av2 ground truth + simulated noise, strict truth",
                score_verdicts(simulated_verdicts(scene, rng, **settings), strict),
            )
            add(
                "av2 ground truth + simulated noise, VO defaults",
                score_verdicts(simulated_verdicts(scene, rng), truth),
            )
        tracker = TRACKER_LAYERS[dataset]
        if tracker in scene.layers:
            auto = scene.layer(tracker)
            add(
                f"{dataset} {tracker}",
                score_verdicts(classify_layer(scene, auto, **settings), matched_truth(scene, auto, drift)),
            )
        if dataset == "kitti" and "auto:pointrcnn" in scene.layers:
            candidates = build_candidates(scene, scene.layer("auto:pointrcnn"))
            verdicts = classify_layer(scene, candidates, **settings)
            add(
                "kitti candidates from auto:pointrcnn",
                score_verdicts(verdicts, matched_truth(scene, candidates, drift)),
            )
    return out  # fmt: skip


def measure_size_priors(scenes: list[tuple[str, Scene]]) -> dict[str, dict[str, object]]:
    priors = SizePriors.builtin()
    out: dict[str, dict[str, object]] = {}
    for dataset, scene in scenes:
        for layer_name in ("ground_truth", "auto:pointrcnn"):
            if layer_name not in scene.layers:
                continue
            key = f"{dataset} {layer_name}"
            entry = out.setdefault(key, {"tracks": 0, "flagged": 0, "examples": []})
            for track in scene.layer(layer_name):
                check = priors.check(track.label, track.size)
                entry["tracks"] = int(entry["tracks"]) + 1  # type: ignore[call-overload]
                if check.implausible:
                    entry["flagged"] = int(entry["flagged"]) + 1  # type: ignore[call-overload]
                    examples = entry["examples"]
                    if isinstance(examples, list) and len(examples) < 4:
                        examples.append(f"{scene.name[:8]} {track.track_id}: {check.reason}")
    return out


def print_size_priors(scenes: list[tuple[str, Scene]]) -> None:
    """The built-in constants of size_priors.py, recomputed from the ground truth."""
    tracks = [t for _, scene in scenes for t in scene.layer("ground_truth")]
    for key in ("label", "family"):
        print(f"# by {key}")
        for name, s in size_statistics(tracks, key=key).items():
            mean = ", ".join(f"{v:.3f}" for v in s.mean)
            std = ", ".join(f"{v:.3f}" for v in s.std)
            print(f"    {name!r}: (({mean}), ({std}), {s.count}),")


def _fmt(value: float) -> str:
    return "-" if np.isnan(value) else f"{value:.3f}"


def report(
    timing: list[dict[str, object]], accuracy: dict[str, Confusion], sizes: dict[str, dict[str, object]]
) -> dict[str, object]:
    console = Console(width=150)
    per_layer: dict[str, list[float]] = {}
    for row in timing:
        kind = str(row["layer"])
        per_layer.setdefault(kind, [0.0, 0.0, 0.0])
        per_layer[kind][0] += float(row["tracks"])  # type: ignore[arg-type]
        per_layer[kind][1] += float(row["stationary"])  # type: ignore[arg-type]
        per_layer[kind][2] += float(row["ms"])  # type: ignore[arg-type]
    table = Table(title="classify_layer over every layer of every scene")
    for column in ("layer", "scenes", "tracks", "stationary", "total ms", "ms / track"):
        table.add_column(column, justify="right" if column != "layer" else "left")
    for kind, (tracks, stationary, ms) in per_layer.items():
        scenes = sum(1 for r in timing if r["layer"] == kind)
        table.add_row(
            kind, str(scenes), f"{tracks:.0f}", f"{stationary:.0f}", f"{ms:.0f}", f"{ms / max(tracks, 1):.2f}"
        )
    console.print(table)

    table = Table(title="stationary = positive class; tracks with >= 3 observations that have a truth")
    for column in (
        "source",
        "tracks",
        "truly still",
        "TP",
        "FP",
        "FN",
        "TN",
        "precision",
        "recall",
        "moving recall",
    ):
        table.add_column(column, justify="right" if column != "source" else "left")
    for key, c in accuracy.items():
        table.add_row(key, str(c.total), str(c.tp + c.fn), str(c.tp), str(c.fp), str(c.fn), str(c.tn),
                      _fmt(c.precision), _fmt(c.recall), _fmt(c.moving_recall))  # fmt: skip
    console.print(table)

    table = Table(title="calibration: observed stationary share per p_stationary bin")
    for column in ("source", "bin", "tracks", "mean p", "observed"):
        table.add_column(column, justify="right" if column != "source" else "left")
    calibration = {key: c.calibration() for key, c in accuracy.items()}
    for key, rows in calibration.items():
        for label, count, mean_p, observed in rows:
            table.add_row(key, label, str(count), f"{mean_p:.2f}", f"{observed:.2f}")
    console.print(table)

    table = Table(title="size priors (built-in, z = 3): tracks flagged implausible")
    for column in ("layer", "tracks", "flagged", "rate", "examples"):
        table.add_column(column, justify="right" if column in ("tracks", "flagged", "rate") else "left")
    for key, entry in sizes.items():
        tracks, flagged = int(entry["tracks"]), int(entry["flagged"])  # type: ignore[call-overload]
        examples = entry["examples"]
        text = "\n".join(examples) if isinstance(examples, list) else ""
        table.add_row(key, str(tracks), str(flagged), f"{flagged / max(tracks, 1):.3f}", text)
    console.print(table)
    return {
        "timing": timing,
        "accuracy": {
            key: {"tracks": c.total, "tp": c.tp, "fp": c.fp, "fn": c.fn, "tn": c.tn, "precision": c.precision,
                  "recall": c.recall, "moving_recall": c.moving_recall, "calibration": calibration[key]}
            for key, c in accuracy.items()
        },
        "size_priors": sizes,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="holds kitti-tracking/, argoverse2/"
    )
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the simulated detection noise")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this file")
    parser.add_argument("--print-size-priors", action="store_true", help="print the size constants and exit")
    args = parser.parse_args()
    scenes = list(load_scenes(args.data_dir))
    if args.print_size_priors:
        print_size_priors(scenes)
        return
    results = report(time_layers(scenes), measure_accuracy(scenes, args.seed), measure_size_priors(scenes))
    results["data_dir"] = str(args.data_dir)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
