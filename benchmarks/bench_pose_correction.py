"""Ego pose correction from stationary landmarks: how many stationary ground-truth shapes pass, raw vs corrected.

    .venv/bin/python benchmarks/bench_pose_correction.py [--data-dir DIR] [--sequences 0000 0001 ...] [--json OUT]

DIR (default ../shared/data when present, else the bundled data/sample) holds kitti-tracking/. Per KITTI
tracking sequence (default: every one with labels, i.e. the dev sequences 0000-0010), as the effort
benchmark reads it: the scene with its ORB-SLAM3 poses, candidates built by ``automation.candidates``
from the PointRCNN detections (``auto:pointrcnn``, what ``autolabel`` does), stationary candidates as
landmarks (``automation.pose_landmarks``) and the correction (``automation.pose_correction``). The
product never reads ground truth; it only measures here (``pose_passing``: one world box per
stationary ground-truth object, its middle frame's box placed through the poses under test).

Columns: the scale the product estimated (mean over the landmark-covered span), landmarks used, the
landmarks' spread before and after, the passing share of stationary ground-truth shapes through the
raw and the corrected poses, seconds for landmarks + correction (candidates are built anyway by
``autolabel`` and timed apart). For reference only, never used by the product: the best global scale
fitted to the ground truth's stationary objects, and the passing share through it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from labelpilot.automation.candidates import build_candidates
from labelpilot.automation.pose_correction import PoseCorrectionSettings, correct_poses
from labelpilot.automation.pose_landmarks import landmarks_from_candidates
from labelpilot.automation.pose_model import ModelShape
from labelpilot.formats import kitti_tracking, read_scene
from pose_passing import Passing, passing_through, stationary_objects, truth_landmarks

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
DEFAULT_DATA_DIR = SHARED_DATA if SHARED_DATA.is_dir() else REPO / "data" / "sample"
GLOBAL_SCALE_ONLY = PoseCorrectionSettings(shape=ModelShape(0, 0, 0))


def _model_name(shape: ModelShape) -> str:
    if shape == ModelShape(0, 0, 0):
        return "scale"
    return f"scale deg {shape.scale_degree}, yaw deg {shape.yaw_degree}, drift deg {shape.drift_degree}"


def _passing_json(p: Passing) -> dict[str, Any]:
    return {"objects": p.objects, "shapes": p.shapes, "passing": p.passing, "share": p.share}


def measure_sequence(root: Path, sequence: str, settings: PoseCorrectionSettings) -> dict[str, Any]:
    scene = read_scene("kitti-tracking", root, sequence)
    started = time.perf_counter()
    candidates = build_candidates(scene, scene.layer("auto:pointrcnn"))
    built = time.perf_counter()
    landmarks = landmarks_from_candidates(scene, candidates)
    correction = correct_poses(scene, landmarks, settings)
    finished = time.perf_counter()
    objects = stationary_objects(scene)
    raw = passing_through(scene, [f.world_T_ego for f in scene.frames], objects)
    corrected = passing_through(scene, correction.poses, objects)
    # Reference only: the same solver fed with ground-truth landmarks, one global scale.
    reference = correct_poses(scene, truth_landmarks(scene, objects), GLOBAL_SCALE_ONLY)
    best = passing_through(scene, reference.poses, objects)
    first = {
        name: _passing_json(passing_through(scene, poses, objects, "first"))
        for name, poses in (
            ("raw", [f.world_T_ego for f in scene.frames]),
            ("corrected", correction.poses),
            ("reference", reference.poses),
        )
    }
    params = correction.parameters
    return {
        "sequence": sequence,
        "frames": len(scene.frames),
        "candidates": len(candidates.tracks),
        "landmarks": len(landmarks),
        "inliers": sum(f.inlier for f in correction.landmarks),
        "applied": correction.applied,
        "reason": correction.reason,
        "model": "not applied" if params is None else _model_name(params.shape),
        "scale": params.mean_scale if params else 1.0,
        "scale_start": params.scale_start if params else 1.0,
        "scale_end": params.scale_end if params else 1.0,
        "yaw_drift_deg": params.yaw_drift_deg if params else 0.0,
        "drift_m": list(params.drift_m) if params else [0.0, 0.0, 0.0],
        "spread_before_m": correction.disagreement_before_m,
        "spread_after_m": correction.disagreement_after_m,
        "disagreeing": correction.disagreeing,
        "notice": correction.notice(),
        "raw": _passing_json(raw),
        "corrected": _passing_json(corrected),
        "reference_applied": reference.applied,
        "reference_scale": reference.parameters.mean_scale if reference.parameters else 1.0,
        "reference": _passing_json(best),
        "first_frame_box": first,
        "seconds_candidates": built - started,
        "seconds_correction": finished - built,
    }


def _share(passing: int, shapes: int) -> str:
    return f"{passing / shapes:.1%}" if shapes else "-"


def print_table(rows: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="stationary ground-truth shapes passing with one world box (middle frame's box)")
    for column in (
        "seq", "scale", "landmarks (in)", "spread m raw -> corr", "stat. objects / shapes",
        "pass raw", "pass corrected", "s (lm + fit)", "ref: GT scale", "ref: pass",
    ):  # fmt: skip
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(
            r["sequence"],
            f"{r['scale']:.4f}" if r["applied"] else "not applied",
            f"{r['landmarks']} ({r['inliers']})",
            f"{r['spread_before_m']:.2f} -> {r['spread_after_m']:.2f}",
            f"{r['raw']['objects']} / {r['raw']['shapes']}",
            _share(r["raw"]["passing"], r["raw"]["shapes"]),
            _share(r["corrected"]["passing"], r["corrected"]["shapes"]),
            f"{r['seconds_correction']:.2f}",
            f"{r['reference_scale']:.4f}" if r["reference_applied"] else "-",
            _share(r["reference"]["passing"], r["reference"]["shapes"]),
        )
    shapes = sum(r["raw"]["shapes"] for r in rows)
    table.add_row(
        "total", "", f"{sum(r['landmarks'] for r in rows)} ({sum(r['inliers'] for r in rows)})", "",
        f"{sum(r['raw']['objects'] for r in rows)} / {shapes}",
        _share(sum(r["raw"]["passing"] for r in rows), shapes),
        _share(sum(r["corrected"]["passing"] for r in rows), shapes),
        f"{sum(r['seconds_correction'] for r in rows):.2f}", "",
        _share(sum(r["reference"]["passing"] for r in rows), shapes),
    )  # fmt: skip
    console.print(table)
    totals = {
        name: _share(sum(r["first_frame_box"][name]["passing"] for r in rows), shapes)
        for name in ("raw", "corrected", "reference")
    }
    console.print(
        f"with the first labelled frame's box instead: raw {totals['raw']}, corrected {totals['corrected']}, "
        f"reference (GT scale) {totals['reference']}"
    )
    for r in rows:
        if not r["applied"]:
            console.print(f"{r['sequence']}: no correction: {r['reason']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="holds kitti-tracking/")
    parser.add_argument(
        "--sequences", nargs="*", default=None, help="KITTI sequences (default: all labelled)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this file")
    args = parser.parse_args()
    root = args.data_dir / "kitti-tracking"
    sequences = args.sequences or [
        s
        for s in kitti_tracking.available_sequences(root)
        if (root / "training" / "label_02" / f"{s}.txt").is_file()
    ]
    console = Console(width=170)
    rows = []
    for sequence in sequences:
        rows.append(measure_sequence(root, sequence, PoseCorrectionSettings()))
        console.print(f"{sequence}: {rows[-1]['reason']}")
    print_table(rows, console)
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
