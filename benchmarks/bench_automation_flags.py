"""Flags and measurement views on real data: how often they are right, how often they cry wolf, how fast.

    .venv/bin/python benchmarks/bench_automation_flags.py [--data-dir DIR] [--json OUT]

DIR defaults to ../shared/data when present (every KITTI tracking sequence and Argoverse 2 log), else
the bundled data/sample. Ground truth only measures: it is the track being checked (never read as a
layer), the truth a flag is judged by, and in the missed-object rows the layer being labelled.

* disagreement: ground-truth tracks keyed at every 2nd / 10th / 20th frame, checked against the raw
  PointRCNN detections (KITTI). "precise" counts flags with an interpolation error of at least 0.3 m
  within 3 frames; "covered" the frames with an error above 1 m that lie in a flagged run (+-1 frame);
* quiet: flags raised on the ground-truth tracks themselves (no auto layer; sweeps where present);
* injected: a 180-degree yaw flip / a 3 m sideways jump put into the middle keyframe of every
  ground-truth track of 20+ frames: found at exactly that frame;
* missed objects: Argoverse 2 sweeps with every ground-truth box given (flags left = clusters
  nobody labelled), and with the vehicles and pedestrians of >= 50 interior points within 40 m
  removed (found = a flag inside the removed box's footprint grown by 1 m);
* measurement views: Argoverse 2 without lidar, share of views on a frame with at least the track's
  median ``num_interior_pts`` (the data set's own count).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from labelpilot.automation.flags import Flag, missed_object_flags, track_flags
from labelpilot.automation.keyframes import keyframed_track
from labelpilot.automation.measurement_view import measurement_views
from labelpilot.automation.sweep_access import SceneSweeps
from labelpilot.formats import read_scene
from labelpilot.geometry import Pose
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Keyframed, Track

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
DEFAULT_DATA_DIR = SHARED_DATA if SHARED_DATA.is_dir() else REPO / "data" / "sample"
HALF_TURN = np.diag([-1.0, -1.0, 1.0])
SPAN = re.compile(r"frames? (\d+)(?:-(\d+))?")


def load_scenes(data_dir: Path) -> Iterator[tuple[str, Scene]]:
    kitti = data_dir / "kitti-tracking"
    for labels in sorted((kitti / "training" / "label_02").glob("*.txt")):
        yield "kitti", read_scene("kitti-tracking", kitti, labels.stem)
    for log in sorted((data_dir / "argoverse2" / "logs").glob("*")):
        if log.is_dir():
            yield "av2", read_scene("av2", log)


def _sparse(scene: Scene, track: Track, step: int) -> Track:
    frames = track.frames()
    return keyframed_track(track, sorted(set(frames[::step]) | {frames[-1]}), scene.world_shapes(track))


def measure_disagreement(scenes: list[tuple[str, Scene]]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    kitti = [s for d, s in scenes if d == "kitti"]
    for step in (2, 10, 20):
        tally: Counter[str] = Counter()
        seconds = 0.0
        for scene in kitti:
            detections = scene.layer("auto:pointrcnn")
            for truth in scene.layer("ground_truth").tracks:
                if len(truth.frames()) < 2 * step:
                    continue
                sparse = _sparse(scene, truth, step)
                a, b = scene.world_shapes(truth), scene.world_shapes(sparse)
                offset = a.cuboids.centers[:, :2] - b.cuboids.centers[:, :2]
                error = dict(zip(a.frames.tolist(), np.linalg.norm(offset, axis=1).tolist(), strict=True))
                start = time.perf_counter()
                flags = [
                    f
                    for f in track_flags(scene, sparse, auto_layers=[detections])
                    if f.kind == "disagrees_with_auto"
                ]
                seconds += time.perf_counter() - start
                tally["tracks"] += 1
                tally["flagged tracks"] += bool(flags)
                covered: set[int] = set()
                for flag in flags:
                    found = SPAN.match(flag.message)
                    assert found is not None
                    low, high = int(found.group(1)), int(found.group(2) or found.group(1))
                    covered |= set(range(low - 1, high + 2))
                    tally["flags"] += 1
                    tally["precise"] += (
                        max(error.get(f, 0.0) for f in range(flag.frame - 3, flag.frame + 4)) >= 0.3
                    )
                keys = set(sparse.motion.keyframes) if isinstance(sparse.motion, Keyframed) else set()
                for frame, e in error.items():
                    if e > 1.0 and frame not in keys:
                        tally["frames off > 1 m"] += 1
                        tally["covered"] += frame in covered
        rows.append({"keyed every": step, **tally, "ms per track": 1000 * seconds / max(tally["tracks"], 1)})
    return rows


def measure_quiet_and_injected(scenes: list[tuple[str, Scene]]) -> tuple[dict[str, int], dict[str, int]]:
    quiet: Counter[str] = Counter()
    injected: Counter[str] = Counter()
    for _, scene in scenes:
        sweeps = SceneSweeps(scene)
        for track in scene.layer("ground_truth").tracks:
            quiet["tracks"] += 1
            for flag in track_flags(scene, track, sweeps=sweeps):
                quiet[flag.kind] += 1
            if len(track.frames()) < 20 or not isinstance(track.motion, Keyframed):
                continue
            keys = sorted(track.motion.keyframes)
            frame = keys[len(keys) // 2]
            pose = track.motion.keyframes[frame]
            variants = {
                "yaw_flip": Pose.from_rotation_translation(
                    pose.rotation_matrix @ HALF_TURN, pose.translation
                ),
                "jump": Pose.from_rotation_translation(
                    pose.rotation_matrix, pose.translation + pose.rotation_matrix @ np.array([0.0, 3.0, 0.0])
                ),
            }
            for kind, changed in variants.items():
                keyed = dict(track.motion.keyframes)
                keyed[frame] = changed
                found = [
                    f.frame
                    for f in track_flags(scene, dataclasses.replace(track, motion=Keyframed(keyed)))
                    if f.kind == kind
                ]
                injected[f"{kind} injected"] += 1
                injected[f"{kind} found at its frame"] += found == [frame]
    return dict(quiet), dict(injected)


def _interior_points(track: Track, frame: int) -> int:
    value = track.frame_attributes.get(frame, {}).get("num_interior_pts", 0)
    return value if isinstance(value, int) else 0


def _inside(flag: Flag, box_pose: Pose, size: np.ndarray) -> bool:
    assert flag.center_world is not None
    local = box_pose.inverse().apply(np.asarray(flag.center_world))
    return bool(np.all(np.abs(local[:2]) <= size[:2] / 2 + 1.0))


def measure_missed(scenes: list[tuple[str, Scene]]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for dataset, scene in scenes:
        if dataset != "av2":
            continue
        sweeps = SceneSweeps(scene)
        truth = scene.layer("ground_truth")
        for frame in (f.index for f in scene.frames if f.lidar is not None):
            start = time.perf_counter()
            complete = missed_object_flags(scene, [truth], sweeps, frames=[frame])
            seconds = time.perf_counter() - start
            ego = scene.frames[frame].world_T_ego.inverse()
            removed = [
                (t, c) for t, c in scene.shapes_in_frame("ground_truth", frame, "world")
                if t.label in ("REGULAR_VEHICLE", "PEDESTRIAN") and float(np.hypot(*ego.apply(c.center)[:2])) <= 40.0
                and _interior_points(t, frame) >= 50
            ]  # fmt: skip
            gone = {id(t) for t, _ in removed}
            partial = AnnotationLayer("ground_truth", [t for t in truth.tracks if id(t) not in gone])
            flags = missed_object_flags(scene, [partial], sweeps, frames=[frame])
            found = sum(any(_inside(f, c.pose, c.size) for f in flags) for _, c in removed)
            rows.append({
                "log": scene.name[:8], "frame": frame, "flags with all boxes": len(complete),
                "removed": len(removed), "found": found, "ms per sweep": 1000 * seconds,
            })  # fmt: skip
    return rows


def measure_views(scenes: list[tuple[str, Scene]]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for dataset, scene in scenes:
        truth = scene.layer("ground_truth")
        if (
            dataset != "av2"
            or not truth.tracks
            or "num_interior_pts" not in truth.tracks[0].frame_attributes.get(truth.tracks[0].first_frame, {})
        ):
            continue
        above: Counter[str] = Counter()
        start = time.perf_counter()
        for track in truth.tracks:
            counts = {f: _interior_points(track, f) for f in track.frames()}
            median = float(np.median(list(counts.values())))
            for dimension, view in measurement_views(scene, track).items():
                above[dimension] += counts[view.frame] >= median
        seconds = time.perf_counter() - start
        n = len(truth.tracks)
        rows.append({
            "log": scene.name[:8], "tracks": n, **{f"{d} >= median": above[d] / n for d in ("length", "width", "height")},
            "ms per track": 1000 * seconds / n,
        })  # fmt: skip
    return rows


def _table(title: str, rows: Sequence[Mapping[str, object]]) -> Table:
    table = Table(title=title)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(
            *(f"{v:.2f}" if isinstance(v, float) else str(v) for v in (row.get(c, "") for c in columns))
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="holds kitti-tracking/, argoverse2/"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this file")
    args = parser.parse_args()
    scenes = list(load_scenes(args.data_dir))
    disagreement = measure_disagreement(scenes)
    quiet, injected = measure_quiet_and_injected(scenes)
    missed = measure_missed(scenes)
    views = measure_views(scenes)
    console = Console()
    console.print(_table("disagrees_with_auto: sparse ground truth vs PointRCNN (KITTI)", disagreement))
    console.print(_table("flags on ground truth itself", [quiet]))
    console.print(_table("injected errors", [injected]))
    console.print(_table("missed objects (Argoverse 2 sweeps)", missed))
    console.print(_table("measurement views without lidar (Argoverse 2)", views))
    if args.json is not None:
        results = {
            "data_dir": str(args.data_dir), "disagreement": disagreement, "quiet": quiet,
            "injected": injected, "missed_objects": missed, "measurement_views": views,
        }  # fmt: skip
        args.json.write_text(json.dumps(results, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
