"""Missed-object items of the guidance queue on a drive with lidar: how many, and how long the queue takes.

    .venv/bin/python benchmarks/bench_missed_hints.py [--data-dir DIR]

DIR defaults to ../shared/data when it holds the KITTI odometry demo drive, else the bundled
data/sample. On the drive (30 sweeps, nothing labelled): the object-like clusters that no box covers
(one per object and sweep), the ``look_at_missed`` items they become (one per object,
``automation.missed_hints``), and ``next_best_actions`` timed three ways: without a memo, on a fresh
``GuidanceMemo`` (cold: every sweep clustered and kept) and again on that memo after a person took the
strongest item's box (warm: what the editor asks for after that edit).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from labelpilot.automation.missed_objects import missed_clusters
from labelpilot.automation.sweep_access import SceneSweeps
from labelpilot.formats import read_scene
from labelpilot.geometry import Pose
from labelpilot.guidance.engine import next_best_actions
from labelpilot.guidance.memo import GuidanceMemo
from labelpilot.tracks import AnnotationLayer, Provenance, Stationary, Track, TrackStatus

REPO = Path(__file__).resolve().parent.parent
DRIVE = "kitti-odometry-00-demo"
SHARED_DATA = REPO.parent / "shared" / "data"
DEFAULT_DATA_DIR = SHARED_DATA if (SHARED_DATA / DRIVE).is_dir() else REPO / "data" / "sample"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args()
    scene = read_scene("kitti-odometry", args.data_dir / DRIVE)
    sweeps = SceneSweeps(scene, capacity=len(scene.frames))
    clusters = sum(len(missed_clusters(scene, [], sweeps, f)) for f in range(len(scene.frames)))

    def timed(memo: GuidanceMemo | None) -> tuple[float, int]:
        start = time.perf_counter()
        queue = next_best_actions(scene, "work", [], sweeps=sweeps, memo=memo)
        return time.perf_counter() - start, sum(a.kind == "look_at_missed" for a in queue)

    bare, items = timed(None)
    memo = GuidanceMemo()
    cold, _ = timed(memo)
    top = next_best_actions(scene, "work", [], sweeps=sweeps, memo=memo)[0]
    assert top.proposal is not None and top.life is not None
    box = top.proposal
    taken = Track(
        "1", box.label or "Car", np.asarray(box.size), Stationary(Pose.from_yaw(box.yaw, box.center)),
        top.life[0], top.life[1], provenance=Provenance("manual"), status=TrackStatus.CONFIRMED,
    )  # fmt: skip
    scene.add_layer(AnnotationLayer("work", [taken]))
    warm, items_after = timed(memo)
    table = Table(title=f"missed objects on {DRIVE} ({len(scene.frames)} sweeps)")
    for column in ("uncovered clusters", "items", "no memo s", "cold s", "warm s", "items after taking one"):
        table.add_column(column, justify="right")
    table.add_row(str(clusters), str(items), f"{bare:.2f}", f"{cold:.2f}", f"{warm:.2f}", str(items_after))
    Console().print(table)


if __name__ == "__main__":
    main()
