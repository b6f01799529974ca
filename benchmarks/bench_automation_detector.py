"""Box fitting and the classical lidar detector on real sweeps: accuracy and time.

    .venv/bin/python benchmarks/bench_automation_detector.py [--data-dir DIR] [--json OUT] [--bev-plot PNG]

- box fitting on the Argoverse 2 sweeps (3 frames with lidar): every ground-truth box with >= 20
  interior points is fitted from a click and from a rough box (tests/automation/lidar_evaluation.py
  says how seeds are made); BEV / 3D IoU distribution, centre and yaw errors by class family, the
  seed's own BEV IoU for comparison, and milliseconds per fit;
- stationary fitting: the parked objects seen in both sweeps of log 7fab2350, fitted in the world
  frame from both sweeps at once (fit_stationary) against one sweep alone;
- the detector on the same sweeps: precision / recall by family (BEV centre distance <= 2 m,
  ground truth with >= 10 interior points within the detector's range), milliseconds per sweep;
- the detector on the KITTI odometry demo drive (no labels): detections per frame, milliseconds per
  ~120k-point sweep, how many car detections reappear in the next frame within 1 m in the world frame
  (the cars are parked and the poses exact), box fitting time per object seeded with the detections,
  and a bird's-eye-view picture of frame 0 (``--bev-plot``).

DIR defaults to ../shared/data when present, else the bundled data/sample.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
# The evaluation code lives with the tests (it is never part of the product).
sys.path.insert(0, str(REPO))

from tests.automation.lidar_evaluation import (  # noqa: E402
    DetectionCounts,
    Sweep,
    add_counts,
    av2_sweeps,
    compare,
    evaluate_fits,
    fit_table,
    rough_seed,
    score_detections,
)

from labelpilot.automation.box_fit import fit_box, fit_stationary  # noqa: E402
from labelpilot.automation.classes import ClassFamily  # noqa: E402
from labelpilot.automation.detector import AV2_LABELS, Detection, DetectorParams, detect  # noqa: E402
from labelpilot.automation.ground import estimate_ground  # noqa: E402
from labelpilot.automation.sweep_access import SceneSweeps  # noqa: E402
from labelpilot.formats import read_scene  # noqa: E402

SHARED_DATA = REPO.parent / "shared" / "data"
DEFAULT_DATA_DIR = SHARED_DATA if SHARED_DATA.is_dir() else REPO / "data" / "sample"
SEED = 20240604
STATIONARY_LOG = "7fab2350-7eaf-3b7e-a39d-6937a4c1bede"


def bench_box_fit(sweeps: list[Sweep]) -> list[dict[str, object]]:
    return fit_table(evaluate_fits(sweeps, np.random.default_rng(SEED)))


def bench_stationary(sweeps: list[Sweep]) -> dict[str, object]:
    """Parked objects (world centre moves < 5 cm between the two sweeps) with >= 20 points in both."""
    pair = [s for s in sweeps if STATIONARY_LOG in s.scene.name]
    if len(pair) < 2:
        return {}
    first, second = pair[0], pair[1]
    scene = first.scene
    world_points = [
        scene.frames[s.frame].world_T_ego.apply(s.points[:, :3].astype(np.float64)) for s in (first, second)
    ]
    by_id = {gt.track_id: gt for gt in second.truth}
    rng = np.random.default_rng(SEED)
    single, both = [], []
    for gt in first.truth:
        other = by_id.get(gt.track_id)
        if (
            other is None
            or min(gt.interior_points, other.interior_points) < 20
            or gt.family == ClassFamily.OTHER
        ):
            continue
        w1 = gt.cuboid.transformed(scene.frames[first.frame].world_T_ego)
        w2 = other.cuboid.transformed(scene.frames[second.frame].world_T_ego)
        if np.hypot(*(w1.center[:2] - w2.center[:2])) > 0.05:
            continue
        seed_world = rough_seed(w1, rng)
        seed_ego = seed_world.transformed(scene.frames[first.frame].world_T_ego.inverse())
        single.append(compare(fit_box(first.points, seed_ego, ground=first.ground).cuboid, gt.cuboid)[0])
        both.append(compare(fit_stationary(world_points, seed_world).cuboid, w1)[0])
    return {
        "objects": len(single),
        "bev_median_one_sweep": float(np.median(single)) if single else None,
        "bev_median_two_sweeps": float(np.median(both)) if both else None,
    }


def bench_detector_av2(sweeps: list[Sweep]) -> dict[str, object]:
    params = DetectorParams(labels=AV2_LABELS)
    total: dict[ClassFamily, DetectionCounts] = {}
    times = []
    for sweep in sweeps:
        start = time.perf_counter()
        detections = detect(sweep.points, params=params)
        times.append((time.perf_counter() - start) * 1000.0)
        add_counts(total, score_detections(detections, sweep.truth, max_range=params.max_range))
    rows = {
        str(f): {
            "precision": c.precision,
            "recall": c.recall,
            "tp": c.true_positives,
            "dets": c.detections,
            "gt": c.truth,
        }
        for f, c in total.items()
    }
    tp = sum(c.true_positives for c in total.values())
    dets = sum(c.detections for c in total.values())
    gt = sum(c.truth for c in total.values())
    rows["all"] = {
        "precision": tp / max(dets, 1),
        "recall": tp / max(gt, 1),
        "tp": tp,
        "dets": dets,
        "gt": gt,
    }
    return {
        "by_family": rows,
        "ms_per_sweep_median": statistics.median(times),
        "points": len(sweeps[0].points),
    }


def _demo_dir(data_dir: Path) -> Path:
    for name in ("kitti-odometry-00-demo", "kitti-odometry-00"):
        if (data_dir / name).is_dir():
            return data_dir / name
    return REPO / "data" / "sample" / "kitti-odometry-00-demo"


def draw_bev(points: np.ndarray, detections: list[Detection], out: Path, half_width: float = 30.0) -> None:
    """Ground (light grey), other points (dark, 2x2 pixels) and detections (coloured by kind) from above;
    image up is ego x (forward), image left is ego y."""
    size = 1000
    scale = size / (2.0 * half_width)
    canvas = np.full((size, size, 3), 255, dtype=np.uint8)
    above = estimate_ground(points).height_above(points) > 0.25
    cols = np.round(size / 2 - points[:, 1] * scale).astype(int)
    rows = np.round(size / 2 - points[:, 0] * scale).astype(int)
    inside = (cols >= 1) & (cols < size - 1) & (rows >= 1) & (rows < size - 1)
    canvas[rows[inside & ~above], cols[inside & ~above]] = 200
    for dr in (0, 1):
        for dc in (0, 1):
            canvas[rows[inside & above] + dr, cols[inside & above] + dc] = 40
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    colours = {"car": "red", "large_vehicle": "purple", "pedestrian": "blue", "cyclist": "green"}

    def pixel(xy: np.ndarray) -> tuple[float, float]:
        return (size / 2 - float(xy[1]) * scale, size / 2 - float(xy[0]) * scale)

    for det in detections:
        corners = det.cuboid_ego.corners()
        colour = colours.get(det.kind, "orange")
        draw.polygon([pixel(c) for c in corners[[4, 5, 6, 7], :2]], outline=colour, width=2)
        draw.line(
            [pixel(det.cuboid_ego.center[:2]), pixel(corners[[4, 5], :2].mean(axis=0))], fill=colour, width=2
        )
    draw.rectangle([size / 2 - 4, size / 2 - 4, size / 2 + 4, size / 2 + 4], fill="black")
    image.save(out)


def bench_demo_drive(data_dir: Path, bev_plot: Path | None) -> dict[str, object]:
    scene = read_scene("kitti-odometry", _demo_dir(data_dir))
    sweeps = SceneSweeps(scene, capacity=2)
    per_frame: list[list[Detection]] = []
    times, fit_times, sizes = [], [], []
    for frame in range(len(scene.frames)):
        points = sweeps.points_ego(frame)
        if points is None:
            continue
        sizes.append(len(points))
        start = time.perf_counter()
        per_frame.append(detect(points))
        times.append((time.perf_counter() - start) * 1000.0)
        if frame == 0 and bev_plot is not None:
            draw_bev(points[:, :3].astype(np.float64), per_frame[0], bev_plot)
        if frame < 3:
            ground = estimate_ground(points)
            for det in per_frame[-1][:20]:
                start = time.perf_counter()
                fit_box(points, det.cuboid_ego, ground=ground)
                fit_times.append((time.perf_counter() - start) * 1000.0)
    counts = [Counter(d.label for d in dets) for dets in per_frame]
    labels = sorted({k for c in counts for k in c})
    reappear, cars = 0, 0
    for f in range(len(per_frame) - 1):
        world_now = [
            scene.frames[f].world_T_ego.apply(d.cuboid_ego.center) for d in per_frame[f] if d.kind == "car"
        ]
        world_next = [
            scene.frames[f + 1].world_T_ego.apply(d.cuboid_ego.center)
            for d in per_frame[f + 1]
            if d.kind == "car"
        ]
        for c in world_now:
            cars += 1
            reappear += any(np.hypot(*(c[:2] - n[:2])) <= 1.0 for n in world_next)
    return {
        "frames": len(per_frame),
        "points_per_sweep": int(np.mean(sizes)),
        "detections_per_frame": {lab: statistics.mean(c.get(lab, 0) for c in counts) for lab in labels},
        "ms_per_sweep_median": statistics.median(times),
        "car_reappears_next_frame": reappear / max(cars, 1),
        "fit_ms_per_object_median": statistics.median(fit_times) if fit_times else None,
    }


def _print(console: Console, report: dict[str, object]) -> None:
    fits = report["box_fit_av2"]
    assert isinstance(fits, list)
    table = Table(title="Box fitting on Argoverse 2 (3 sweeps, GT boxes with >= 20 points)")
    for col in (
        "seed",
        "family",
        "n",
        "BEV med [q1, q3]",
        ">0.5",
        ">0.7",
        "3D med",
        "centre m",
        "yaw deg",
        "seed BEV",
        "ms",
    ):
        table.add_column(col)
    for r in fits:
        table.add_row(
            str(r["seed"]), str(r["family"]), str(r["n"]),
            f"{r['bev_median']:.2f} [{r['bev_q1']:.2f}, {r['bev_q3']:.2f}]",
            f"{r['bev_over_0.5']:.2f}", f"{r['bev_over_0.7']:.2f}", f"{r['iou3d_median']:.2f}",
            f"{r['center_error_median']:.2f}", f"{r['yaw_error_median_deg']:.1f}",
            f"{r['seed_bev_median']:.2f}", f"{r['fit_ms_median']:.1f}",
        )  # fmt: skip
    console.print(table)
    console.print("stationary (world frame):", report["stationary_av2"])
    det = report["detector_av2"]
    assert isinstance(det, dict)
    table = Table(title=f"Classical detector on Argoverse 2 ({det['ms_per_sweep_median']:.0f} ms per sweep)")
    for col in ("family", "precision", "recall", "TP", "detections", "GT"):
        table.add_column(col)
    for fam, c in det["by_family"].items():
        table.add_row(
            fam, f"{c['precision']:.2f}", f"{c['recall']:.2f}", str(c["tp"]), str(c["dets"]), str(c["gt"])
        )
    console.print(table)
    console.print("KITTI odometry demo drive:", report["detector_demo_drive"])


def run(data_dir: Path, bev_plot: Path | None) -> dict[str, object]:
    sweeps = av2_sweeps(data_dir / "argoverse2")
    return {
        "box_fit_av2": bench_box_fit(sweeps),
        "stationary_av2": bench_stationary(sweeps),
        "detector_av2": bench_detector_av2(sweeps),
        "detector_demo_drive": bench_demo_drive(data_dir, bev_plot),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    parser.add_argument("--bev-plot", type=Path, default=None, help="save a BEV picture of demo frame 0 here")
    args = parser.parse_args()
    report = run(args.data_dir, args.bev_plot)
    _print(Console(width=150), report)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
