"""How box fitting and the classical detector are measured on Argoverse 2 sweeps (tests and benchmarks).

Ground truth is only read here, never by the code under test. Class families come from
``automation.classes``; AV2 boxes of the ``other`` family (bollards, signs, ...) are not scored.

Seeds for box fitting, per ground-truth box with enough interior points:
* click: the box centre moved 0.5-1.0 m in a random direction, a heading 15-25 deg off (random side)
  and the box's class label (as when a person clicks with a class selected);
* rough box: centre moved 0.3-0.6 m, yaw 5-15 deg off, each size dimension scaled by 0.85-1.15.

Detections are matched to ground truth greedily in score order by bird's-eye-view centre distance
(<= 2 m), class-aware by family; ground truth counts when it has >= ``min_points`` interior points and
lies within the detector's range. A detection nearest to an uncounted box (too few points, or an
``other`` object) is neither right nor wrong.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from labelpilot.automation.box_fit import FitResult, fit_box, prior_size
from labelpilot.automation.classes import ClassFamily, class_family
from labelpilot.automation.detector import Detection
from labelpilot.automation.ground import GroundModel, estimate_ground
from labelpilot.automation.sweep_access import SceneSweeps
from labelpilot.formats import read_scene
from labelpilot.geometry import Cuboid, CuboidBatch, bev_iou_pairs, iou_3d_pairs, yaw_difference
from labelpilot.scenes import Scene

FloatArray = NDArray[np.float64]

AV2_SWEEP_LOGS = ("7fab2350-7eaf-3b7e-a39d-6937a4c1bede", "adcf7d18-0510-35b0-a2fa-b4cea13a6d76")
FAMILIES = (ClassFamily.VEHICLE, ClassFamily.PEDESTRIAN, ClassFamily.CYCLIST)


@dataclass(frozen=True, eq=False)
class GroundTruthBox:
    label: str
    family: ClassFamily
    cuboid: Cuboid
    interior_points: int
    track_id: str


@dataclass(frozen=True, eq=False)
class Sweep:
    """One AV2 frame with lidar: its points (ego frame), ground model and ground truth (ego frame)."""

    scene: Scene
    frame: int
    points: NDArray[np.float32]
    ground: GroundModel
    truth: list[GroundTruthBox]


def av2_sweeps(argoverse_dir: Path) -> list[Sweep]:
    """Every frame with a lidar sweep in the AV2 logs that have sweeps."""
    out: list[Sweep] = []
    for log in AV2_SWEEP_LOGS:
        scene = read_scene("av2", argoverse_dir / "logs" / log)
        sweeps = SceneSweeps(scene)
        for frame in scene.frames:
            points = sweeps.points_ego(frame.index)
            if points is None:
                continue
            truth = [
                GroundTruthBox(
                    track.label,
                    class_family(track.label),
                    cuboid,
                    int(str(track.frame_attributes[frame.index]["num_interior_pts"])),
                    track.track_id,
                )
                for track, cuboid in scene.shapes_in_frame("ground_truth", frame.index)
            ]
            out.append(Sweep(scene, frame.index, points, estimate_ground(points), truth))
    return out


def click_seed(box: Cuboid, rng: np.random.Generator) -> tuple[FloatArray, float]:
    angle = rng.uniform(0.0, 2.0 * np.pi)
    offset = rng.uniform(0.5, 1.0) * np.array([np.cos(angle), np.sin(angle), 0.0])
    yaw = box.yaw + rng.choice([-1.0, 1.0]) * np.deg2rad(rng.uniform(15.0, 25.0))
    return box.center + offset, float(yaw)


def rough_seed(box: Cuboid, rng: np.random.Generator) -> Cuboid:
    angle = rng.uniform(0.0, 2.0 * np.pi)
    offset = rng.uniform(0.3, 0.6) * np.array([np.cos(angle), np.sin(angle), 0.0])
    yaw = box.yaw + rng.choice([-1.0, 1.0]) * np.deg2rad(rng.uniform(5.0, 15.0))
    return Cuboid.from_yaw(box.center + offset, box.size * rng.uniform(0.85, 1.15, 3), yaw)


@dataclass(frozen=True)
class FitRecord:
    seed_kind: str
    family: ClassFamily
    bev_iou: float
    iou_3d: float
    center_error: float
    yaw_error_deg: float
    seed_bev_iou: float
    fit_ms: float


def compare(fitted: Cuboid, truth: Cuboid) -> tuple[float, float, float, float]:
    """BEV IoU, 3D IoU, BEV centre distance and absolute yaw difference (degrees)."""
    a, b = CuboidBatch.from_cuboids([fitted]), CuboidBatch.from_cuboids([truth])
    return (
        float(bev_iou_pairs(a, b)[0]),
        float(iou_3d_pairs(a, b)[0]),
        float(np.hypot(*(fitted.center[:2] - truth.center[:2]))),
        float(np.rad2deg(abs(yaw_difference(fitted.yaw, truth.yaw)))),
    )


def _record(kind: str, gt: GroundTruthBox, result: FitResult, seed_box: Cuboid, ms: float) -> FitRecord:
    bev, iou3, center, yaw = compare(result.cuboid, gt.cuboid)
    return FitRecord(kind, gt.family, bev, iou3, center, yaw, compare(seed_box, gt.cuboid)[0], ms)


def evaluate_fits(
    sweeps: Sequence[Sweep], rng: np.random.Generator, min_points: int = 20, limit: int | None = None
) -> list[FitRecord]:
    """Fit every scored ground-truth box (>= min_points, not ``other``) from a click and a rough box."""
    records: list[FitRecord] = []
    for sweep in sweeps:
        boxes = [
            gt for gt in sweep.truth if gt.interior_points >= min_points and gt.family != ClassFamily.OTHER
        ]
        for gt in boxes[:limit]:
            point, yaw = click_seed(gt.cuboid, rng)
            start = time.perf_counter()
            clicked = fit_box(sweep.points, point, ground=sweep.ground, label=gt.label, yaw=yaw)
            ms = (time.perf_counter() - start) * 1000.0
            # The click as a box: the class's typical size (the true size for large vehicles, which have none).
            click_box = Cuboid.from_yaw(point, prior_size(gt.label) or gt.cuboid.size, yaw)
            records.append(_record("click", gt, clicked, click_box, ms))
            seed = rough_seed(gt.cuboid, rng)
            start = time.perf_counter()
            fitted = fit_box(sweep.points, seed, ground=sweep.ground)
            ms = (time.perf_counter() - start) * 1000.0
            records.append(_record("rough", gt, fitted, seed, ms))
    return records


def summary(values: Sequence[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=np.float64)
    if len(a) == 0:
        return {"n": 0}
    q1, med, q3 = np.percentile(a, [25, 50, 75])
    return {"n": float(len(a)), "median": float(med), "q1": float(q1), "q3": float(q3)}


def fit_table(records: Sequence[FitRecord]) -> list[dict[str, object]]:
    """One row per (seed kind, family): IoU distribution, errors and the seed's own BEV IoU."""
    rows: list[dict[str, object]] = []
    for kind in ("click", "rough"):
        for family in FAMILIES:
            sel = [r for r in records if r.seed_kind == kind and r.family == family]
            if not sel:
                continue
            bev = np.array([r.bev_iou for r in sel])
            rows.append(
                {
                    "seed": kind,
                    "family": str(family),
                    "n": len(sel),
                    "bev_median": float(np.median(bev)),
                    "bev_q1": float(np.percentile(bev, 25)),
                    "bev_q3": float(np.percentile(bev, 75)),
                    "bev_over_0.5": float(np.mean(bev > 0.5)),
                    "bev_over_0.7": float(np.mean(bev > 0.7)),
                    "iou3d_median": float(np.median([r.iou_3d for r in sel])),
                    "iou3d_over_0.5": float(np.mean([r.iou_3d > 0.5 for r in sel])),
                    "center_error_median": float(np.median([r.center_error for r in sel])),
                    "yaw_error_median_deg": float(np.median([r.yaw_error_deg for r in sel])),
                    "seed_bev_median": float(np.median([r.seed_bev_iou for r in sel])),
                    "fit_ms_median": float(np.median([r.fit_ms for r in sel])),
                }
            )
    return rows


@dataclass
class DetectionCounts:
    true_positives: int = 0
    detections: int = 0
    truth: int = 0

    @property
    def precision(self) -> float:
        return self.true_positives / self.detections if self.detections else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.truth if self.truth else 0.0


def score_detections(
    detections: Sequence[Detection],
    truth: Sequence[GroundTruthBox],
    *,
    max_range: float,
    min_points: int = 10,
    max_distance: float = 2.0,
) -> dict[ClassFamily, DetectionCounts]:
    """Class-aware counts per family for one sweep (see the module docstring)."""
    counts = {family: DetectionCounts() for family in FAMILIES}
    in_range = [gt for gt in truth if np.hypot(*gt.cuboid.center[:2]) <= max_range]
    scored = [gt.interior_points >= min_points and gt.family != ClassFamily.OTHER for gt in in_range]
    for gt, counted in zip(in_range, scored, strict=True):
        if counted:
            counts[gt.family].truth += 1
    taken: set[int] = set()
    for det in sorted(detections, key=lambda d: -d.score):
        family = class_family(det.label)
        distances = [
            np.inf if j in taken else float(np.hypot(*(gt.cuboid.center[:2] - det.cuboid_ego.center[:2])))
            for j, gt in enumerate(in_range)
        ]
        nearest = int(np.argmin(distances)) if distances else -1
        if nearest < 0 or distances[nearest] > max_distance:
            counts[family].detections += 1
            continue
        taken.add(nearest)
        if not scored[nearest]:
            continue  # an uncounted object: neither right nor wrong
        counts[family].detections += 1
        if in_range[nearest].family == family:
            counts[family].true_positives += 1
    return counts


def add_counts(total: dict[ClassFamily, DetectionCounts], part: dict[ClassFamily, DetectionCounts]) -> None:
    for family, c in part.items():
        t = total.setdefault(family, DetectionCounts())
        t.true_positives += c.true_positives
        t.detections += c.detections
        t.truth += c.truth
