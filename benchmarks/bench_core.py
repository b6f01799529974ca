"""Timing of the core's hot paths on real data: geometry and import.

    .venv/bin/python benchmarks/bench_core.py [--data-dir DIR] [--repeat N] [--json OUT]

- points in cuboids: a real KITTI odometry sweep (~120k points) against 100 boxes placed on it;
- IoU: 1000 x 1000 realistic boxes (ground truth against jittered detections), matrix and aligned pairs;
- import: the largest KITTI tracking sequence in DIR (labels, detections, tracker output, poses) and the
  KITTI odometry drive with all its sweeps decoded.

DIR defaults to ../shared/data when present (the full data set), else the bundled data/sample.

Each case runs ``repeat`` times and reports the median in milliseconds. Every benchmark is a
function ``(data_dir, repeat) -> {case: median ms}`` listed in BENCHMARKS; ``run`` runs them all,
so a new one (an importer, say) is one more function in that list.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from labelpilot.formats import read_scene
from labelpilot.formats.pcd import read_pcd
from labelpilot.formats.sweeps import read_sweep
from labelpilot.geometry import (
    CuboidBatch,
    bev_iou,
    bev_iou_pairs,
    count_points_in_cuboids,
    iou_3d,
    iou_3d_pairs,
    points_in_cuboids,
)

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
DEFAULT_DATA_DIR = SHARED_DATA if SHARED_DATA.is_dir() else REPO / "data" / "sample"
KITTI_SWEEP = Path("kitti-odometry-00") / "clouds" / "0.pcd"
SEED = 20240601

Benchmark = Callable[[Path, int], dict[str, float]]


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``repeat`` calls, after one untimed warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def read_xyz_pcd(path: Path) -> np.ndarray:
    return np.asarray(read_pcd(path)[:, :3], dtype=np.float64)


def boxes_on_points(points: np.ndarray, count: int, rng: np.random.Generator) -> CuboidBatch:
    """Car- to truck-sized boxes centred on randomly chosen points of the sweep, at random headings."""
    centers = points[rng.choice(len(points), size=count, replace=False)]
    sizes = np.column_stack(
        [rng.uniform(3.5, 8.0, count), rng.uniform(1.6, 2.6, count), rng.uniform(1.4, 3.0, count)]
    )
    return CuboidBatch.from_yaws(centers, sizes, rng.uniform(-np.pi, np.pi, count))


def street_scene_boxes(count: int, rng: np.random.Generator) -> tuple[CuboidBatch, CuboidBatch]:
    """Ground-truth-like boxes within 100 m, and detections: each one jittered, some of them replaced by misses."""
    kinds = rng.choice(3, size=count, p=[0.6, 0.3, 0.1])  # car, pedestrian, truck
    base = np.array([[4.5, 1.9, 1.6], [0.8, 0.8, 1.75], [10.0, 2.6, 3.5]])[kinds]
    sizes = base * rng.uniform(0.85, 1.15, (count, 3))
    radius, angle = 100.0 * np.sqrt(rng.uniform(0, 1, count)), rng.uniform(-np.pi, np.pi, count)
    centers = np.column_stack([radius * np.cos(angle), radius * np.sin(angle), sizes[:, 2] / 2 - 1.7])
    yaws = rng.uniform(-np.pi, np.pi, count)
    truth = CuboidBatch.from_yaws(centers, sizes, yaws)

    jittered_centers = centers + rng.normal(0.0, 0.3, (count, 3)) * [1, 1, 0.3]
    missed = rng.uniform(0, 1, count) < 0.15
    jittered_centers[missed, :2] = rng.uniform(-100, 100, (int(missed.sum()), 2))
    detections = CuboidBatch.from_yaws(
        jittered_centers, sizes * rng.uniform(0.9, 1.1, (count, 3)), yaws + rng.normal(0.0, 0.1, count)
    )
    return truth, detections


def bench_points_in_cuboids(data_dir: Path, repeat: int) -> dict[str, float]:
    points = read_xyz_pcd(data_dir / KITTI_SWEEP)
    boxes = boxes_on_points(points, 100, np.random.default_rng(SEED))
    # Never time a wrong answer: the k-d tree and the dense path must agree first.
    with_tree = points_in_cuboids(points, boxes, prefilter=True)
    if not np.array_equal(with_tree, points_in_cuboids(points, boxes, prefilter=False)):
        raise AssertionError("k-d tree and dense points-in-cuboids disagree")
    label = f"{len(points) // 1000}k pts x {len(boxes)} boxes"
    return {
        f"points_in_cuboids, k-d tree ({label})": median_ms(lambda: points_in_cuboids(points, boxes), repeat),
        f"count_points_in_cuboids ({label})": median_ms(
            lambda: count_points_in_cuboids(points, boxes), repeat
        ),
        f"points_in_cuboids, dense ({label})": median_ms(
            lambda: points_in_cuboids(points, boxes, prefilter=False), repeat
        ),
    }


def bench_iou(data_dir: Path, repeat: int) -> dict[str, float]:
    truth, detections = street_scene_boxes(1000, np.random.default_rng(SEED))
    label = f"{len(truth)} x {len(detections)}"
    return {
        f"bev_iou matrix ({label})": median_ms(lambda: bev_iou(truth, detections), repeat),
        f"iou_3d matrix ({label})": median_ms(lambda: iou_3d(truth, detections), repeat),
        f"bev_iou_pairs ({len(truth)} pairs)": median_ms(lambda: bev_iou_pairs(truth, detections), repeat),
        f"iou_3d_pairs ({len(truth)} pairs)": median_ms(lambda: iou_3d_pairs(truth, detections), repeat),
    }


def _largest_kitti_sequence(root: Path) -> str:
    labels = sorted((root / "training" / "label_02").glob("*.txt"), key=lambda p: p.stat().st_size)
    if not labels:
        raise FileNotFoundError(f"{root}: no KITTI tracking label files")
    return labels[-1].stem


def bench_import(data_dir: Path, repeat: int) -> dict[str, float]:
    root = data_dir / "kitti-tracking"
    sequence = _largest_kitti_sequence(root)
    scene = read_scene("kitti-tracking", root, sequence)
    shapes = sum(layer.shape_count() for layer in scene.layers.values())
    key = f"import kitti-tracking {sequence} ({len(scene.frames)} frames, {shapes} shapes in all layers)"
    results = {key: median_ms(lambda: read_scene("kitti-tracking", root, sequence), repeat)}
    drive = next(
        (d for d in (data_dir / "kitti-odometry-00-demo", data_dir / "kitti-odometry-00") if d.is_dir()), None
    )
    if drive is not None:
        odometry = read_scene("kitti-odometry", drive)

        def import_with_sweeps() -> None:
            for frame in read_scene("kitti-odometry", drive).frames:
                if frame.lidar is not None:
                    read_sweep(frame.lidar)

        key = f"import kitti-odometry {drive.name} + decode {len(odometry.frames)} sweeps"
        results[key] = median_ms(import_with_sweeps, max(1, repeat // 2))
    return results


BENCHMARKS: list[Benchmark] = [bench_points_in_cuboids, bench_iou, bench_import]


def run(data_dir: Path, repeat: int = 5) -> dict[str, float]:
    """Median milliseconds of every case of every benchmark."""
    results: dict[str, float] = {}
    for benchmark in BENCHMARKS:
        results.update(benchmark(data_dir, repeat))
    return results


def print_table(results: dict[str, float], repeat: int) -> None:
    table = Table(title=f"LabelPilot core benchmarks (median of {repeat} runs)")
    table.add_column("case")
    table.add_column("median ms", justify="right")
    for case, ms in results.items():
        table.add_row(case, f"{ms:.1f}")
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="folder holding kitti-odometry-00/"
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case (after one warm-up)")
    parser.add_argument("--json", type=Path, default=None, help="also write {case: median ms} to this file")
    args = parser.parse_args()
    results = run(args.data_dir, args.repeat)
    print_table(results, args.repeat)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
