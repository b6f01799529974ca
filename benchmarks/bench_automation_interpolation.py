"""World-frame interpolation of whole scenes and keyframe suggestion, timed and measured on real data.

    .venv/bin/python benchmarks/bench_automation_interpolation.py [--data-dir DIR] [--repeat N] [--json OUT]

- timing: a synthetic 1,000-frame scene with 200 tracks (keyframes every 5-20 frames, a fifth of them
  stationary, some frames hidden), every track on every frame and with realistic lives; linear, Hermite,
  to_ego_all, against the per-track reference (world_shapes / to_ego in a loop); the same on the
  real AV2 tracker layer (1,545 candidates keyed at 2 Hz);
- keyframe suggestion: every ground-truth track of every KITTI tracking sequence in DIR, every AV2
  log's ground truth and the AV2 tracker candidates: keyframes needed against shapes, the worst error
  of the track rebuilt from them (within tolerance by construction), and the time for the largest
  KITTI sequence;
- interpolation quality: ground truth keyed every 5 / 10 frames, linear against Hermite, error at the
  frames in between.

DIR defaults to ../shared/data when present (the full data set), else the bundled data/sample.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from labelpilot.automation.interpolation import (
    VELOCITY_PER_SECOND,
    InterpolationMethod,
    interpolate_scene_tracks,
    to_ego_all,
)
from labelpilot.automation.keyframes import keyframed_track, suggest_for_track
from labelpilot.formats import read_scene
from labelpilot.geometry import Pose, yaw_difference
from labelpilot.scenes import Scene
from labelpilot.tracks import Keyframed, Stationary, Track, TrackShapes, to_ego, world_shapes

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
DEFAULT_DATA_DIR = SHARED_DATA if SHARED_DATA.is_dir() else REPO / "data" / "sample"
SEED = 20240601
METHODS: tuple[InterpolationMethod, ...] = ("linear", "hermite")
Row = dict[str, float | int | str]


def timings(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    """Median and fastest wall time, and median CPU time, of ``repeat`` calls after one untimed warm-up.

    The machines are shared: the fastest run and the CPU time show the cost without the neighbours."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000.0)
        cpu.append((time.process_time() - start_cpu) * 1000.0)
    return {
        "median ms": statistics.median(wall),
        "min ms": min(wall),
        "median cpu ms": statistics.median(cpu),
    }


# --- a synthetic scene with realistic keyframe densities ------------------------------------------------
def synthetic_tracks(num_frames: int, count: int, full_lives: bool, rng: np.random.Generator) -> list[Track]:
    tracks: list[Track] = []
    for i in range(count):
        if full_lives:
            first, last = 0, num_frames - 1
        else:
            length = int(rng.integers(50, num_frames + 1))
            first = int(rng.integers(0, num_frames - length + 1))
            last = first + length - 1
        start, heading = rng.uniform(-80, 80, 3) * [1, 1, 0.02], rng.uniform(-np.pi, np.pi)
        size = rng.uniform([3.8, 1.6, 1.4], [5.2, 2.1, 1.9])
        absent = frozenset(int(f) for f in rng.integers(first, last + 1, 5)) if i % 10 == 0 else frozenset()
        if i % 5 == 0:
            motion: Stationary | Keyframed = Stationary(Pose.from_yaw(heading, start))
        else:
            # A car at 0-15 m/s (10 Hz) turning gently, keyed every 5-20 frames like a person would.
            frames = np.arange(first, last + 1)
            yaw = heading + 0.3 * np.sin((frames - first) / rng.uniform(40, 200))
            step = rng.uniform(0.0, 1.5) * np.column_stack([np.cos(yaw), np.sin(yaw), np.zeros(len(yaw))])
            path = start + np.cumsum(step, axis=0)
            keys = [0]
            while keys[-1] < len(frames) - 1:
                keys.append(min(len(frames) - 1, keys[-1] + int(rng.integers(5, 21))))
            motion = Keyframed({int(frames[k]): Pose.from_yaw(float(yaw[k]), path[k]) for k in keys})
        tracks.append(Track(f"s{i}", "Car", size, motion, first, last, absent_frames=absent))
    return tracks


def synthetic_ego_poses(num_frames: int) -> np.ndarray:
    t = np.arange(num_frames)
    yaw, pitch = 0.2 * np.sin(t / 150.0), 0.01 * np.sin(t / 37.0)
    return np.stack(
        [
            Pose.from_rotation_translation(_ypr(y, p), [1.2 * f, 5 * np.sin(f / 90), 0.0]).matrix
            for f, y, p in zip(t, yaw, pitch, strict=True)
        ]
    )


def _ypr(yaw: float, pitch: float) -> np.ndarray:
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    yaw_matrix = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    pitch_matrix = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    return np.asarray(yaw_matrix @ pitch_matrix, dtype=np.float64)


def _assert_same(got: list[TrackShapes], expected: list[TrackShapes], atol: float) -> None:
    """Never time a wrong answer."""
    for g, e in zip(got, expected, strict=True):
        if not np.array_equal(g.frames, e.frames) or not np.allclose(
            g.cuboids.centers, e.cuboids.centers, atol=atol
        ):
            raise AssertionError("vectorised and per-track interpolation disagree")
        dots = np.abs(np.sum(g.cuboids.quats_xyzw * e.cuboids.quats_xyzw, axis=1))
        if np.any(np.abs(dots - 1.0) > 1e-9):
            raise AssertionError("vectorised and per-track rotations disagree")


def time_interpolation(label: str, tracks: list[Track], poses: np.ndarray, repeat: int) -> list[Row]:
    frames = len(poses)
    world = interpolate_scene_tracks(tracks, frames)
    reference = [world_shapes(t) for t in tracks]
    _assert_same(world, reference, 1e-9)
    _assert_same(to_ego_all(world, poses), [to_ego(s, poses) for s in reference], 1e-8)
    shapes = sum(len(s) for s in world)
    keys = sum(len(t.motion.keyframes) if isinstance(t.motion, Keyframed) else 1 for t in tracks)
    case = f"{label}: {len(tracks)} tracks, {shapes} shapes, {keys} keyframes"
    slow_repeat = max(1, repeat // 3)
    steps: list[tuple[str, Callable[[], object], int]] = [
        ("linear (vectorised)", lambda: interpolate_scene_tracks(tracks, frames), repeat),
        ("hermite (vectorised)", lambda: interpolate_scene_tracks(tracks, frames, "hermite"), repeat),
        ("to_ego_all (vectorised)", lambda: to_ego_all(world, poses), repeat),
        ("world_shapes per track (reference)", lambda: [world_shapes(t) for t in tracks], slow_repeat),
        ("to_ego per track (reference)", lambda: [to_ego(s, poses) for s in reference], slow_repeat),
    ]
    return [{"case": case, "step": step, **timings(fn, n)} for step, fn, n in steps]


def bench_timing(data_dir: Path, repeat: int) -> list[Row]:
    rng = np.random.default_rng(SEED)
    poses = synthetic_ego_poses(1000)
    rows = time_interpolation(
        "synthetic 1000 frames, all lives full", synthetic_tracks(1000, 200, True, rng), poses, repeat
    )
    rows += time_interpolation(
        "synthetic 1000 frames, lives 50-1000", synthetic_tracks(1000, 200, False, rng), poses, repeat
    )
    log = data_dir / "argoverse2" / "logs" / "3b3570b4-7b0b-3268-a571-b0889dbf40b6"
    if log.is_dir():
        scene = read_scene("av2", log)
        rows += time_interpolation(
            "AV2 3b3570b4 auto:tracker", scene.layer("auto:tracker").tracks, scene.world_T_ego_array(), repeat
        )
    return rows


# --- keyframe suggestion on real data ---------------------------------------------------------------------
def kitti_sequences(data_dir: Path) -> list[str]:
    return sorted(p.stem for p in (data_dir / "kitti-tracking" / "training" / "label_02").glob("*.txt"))


@functools.cache
def real_scenes(data_dir: Path) -> list[tuple[str, Scene, str]]:
    """(name, scene, layer) for KITTI ground truth, AV2 ground truth and the AV2 tracker candidates."""
    out = [
        (f"KITTI {s} GT", read_scene("kitti-tracking", data_dir / "kitti-tracking", s), "ground_truth")
        for s in kitti_sequences(data_dir)
    ]
    for log in sorted((data_dir / "argoverse2" / "logs").glob("*")):
        scene = read_scene("av2", log)
        # A log without ego poses is imported in the ego frame: parked objects move with the car there.
        still = np.allclose(scene.world_T_ego_array(), np.eye(4))
        out.append((f"AV2 {log.name[:8]} GT" + (" (no ego poses)" if still else ""), scene, "ground_truth"))
        if "auto:tracker" in scene.layers:
            out.append((f"AV2 {log.name[:8]} tracker", scene, "auto:tracker"))
    return out


def keyframe_stats(name: str, scene: Scene, layer: str, method: InterpolationMethod) -> Row:
    tracks = scene.layer(layer).tracks
    start, start_cpu = time.perf_counter(), time.process_time()
    suggested = [suggest_for_track(t, method=method) for t in tracks]
    elapsed, elapsed_cpu = (time.perf_counter() - start) * 1000.0, (time.process_time() - start_cpu) * 1000.0
    truth = interpolate_scene_tracks(tracks, len(scene.frames))
    rebuilt = interpolate_scene_tracks(
        [keyframed_track(t, k) for t, k in zip(tracks, suggested, strict=True)], len(scene.frames), method
    )
    center = max(
        float(np.linalg.norm(r.cuboids.centers - g.cuboids.centers, axis=1).max())
        for r, g in zip(rebuilt, truth, strict=True)
    )
    yaw = max(
        float(np.abs(yaw_difference(r.cuboids.yaws, g.cuboids.yaws)).max())
        for r, g in zip(rebuilt, truth, strict=True)
    )
    shapes = sum(len(s) for s in truth)
    source_keys = sum(len(t.motion.keyframes) if isinstance(t.motion, Keyframed) else 1 for t in tracks)
    keys = sum(len(k) for k in suggested)
    return {
        "data": name, "method": method, "tracks": len(tracks), "shapes": shapes, "source keyframes": source_keys,
        "suggested": keys, "suggested / shapes": keys / shapes, "max centre err m": center, "max yaw err rad": yaw,
        "ms": elapsed, "cpu ms": elapsed_cpu,
    }  # fmt: skip


def bench_keyframes(data_dir: Path, repeat: int) -> list[Row]:
    return [keyframe_stats(n, s, layer, m) for n, s, layer in real_scenes(data_dir) for m in METHODS]


# --- interpolation quality: sparse ground truth against the full one ---------------------------------------
def sparse_quality(name: str, scene: Scene, step: int) -> list[Row]:
    tracks = [
        t
        for t in scene.layer("ground_truth").tracks
        if isinstance(t.motion, Keyframed) and len(t.motion.keyframes) > 2 * step
    ]
    truth = interpolate_scene_tracks(tracks, len(scene.frames))
    sparse = []
    for track in tracks:
        assert isinstance(track.motion, Keyframed)
        frames = track.motion.frames
        sparse.append(keyframed_track(track, sorted({*frames[::step], frames[-1]})))
    rows: list[Row] = []
    for method in METHODS:
        got = interpolate_scene_tracks(sparse, len(scene.frames), method)
        errors = np.concatenate(
            [
                np.linalg.norm(g.cuboids.centers - t.cuboids.centers, axis=1)
                for g, t in zip(got, truth, strict=True)
            ]
        )
        between = errors[errors > 0] if np.any(errors > 0) else errors
        rows.append({
            "data": name, "keyed every": step, "method": method, "tracks": len(tracks),
            "mean err m": float(between.mean()), "p95 err m": float(np.percentile(between, 95)), "max err m": float(between.max()),
        })  # fmt: skip
    return rows


def bench_quality(data_dir: Path, repeat: int) -> list[Row]:
    rows: list[Row] = []
    for name, scene, layer in real_scenes(data_dir):
        if layer == "ground_truth":
            for step in (5, 10):
                rows += sparse_quality(name, scene, step)
        else:
            rows += tracker_quality(name, scene)
    return rows


def matched_ground_truth(scene: Scene, candidates: list[Track], radius: float = 1.0) -> list[int | None]:
    """For each candidate, the ground-truth track nearest its keyframe boxes (mean distance under ``radius``)."""
    truth = interpolate_scene_tracks(scene.layer("ground_truth").tracks, len(scene.frames))
    centre_at = {
        (i, int(f)): c for i, s in enumerate(truth) for f, c in zip(s.frames, s.cuboids.centers, strict=True)
    }
    in_frame: dict[int, list[int]] = {}
    for i, frame in centre_at:
        in_frame.setdefault(frame, []).append(i)
    matches: list[int | None] = []
    for track in candidates:
        assert isinstance(track.motion, Keyframed)
        votes: dict[int, list[float]] = {}
        for frame, pose in track.motion.keyframes.items():
            for i in in_frame.get(frame, []):
                distance = float(np.linalg.norm(centre_at[(i, frame)] - pose.translation))
                if distance < 3 * radius:
                    votes.setdefault(i, []).append(distance)
        best = max(votes, key=lambda i: (len(votes[i]), -np.mean(votes[i])), default=None)
        matches.append(best if best is not None and np.mean(votes[best]) < radius else None)
    return matches


def has_velocities(tracks: list[Track]) -> bool:
    """Whether any keyframe carries a non-zero velocity in metres per second."""
    for track in tracks:
        for attributes in track.frame_attributes.values():
            velocity = attributes.get(VELOCITY_PER_SECOND)
            if isinstance(velocity, list) and any(velocity):
                return True
    return False


def tracker_quality(name: str, scene: Scene) -> list[Row]:
    """The 2 Hz tracker interpolated to 10 Hz, against the matched ground truth at the frames in between."""
    candidates = [
        t
        for t in scene.layer("auto:tracker").tracks
        if isinstance(t.motion, Keyframed) and len(t.motion.keyframes) > 2
    ]
    matches = matched_ground_truth(scene, candidates)
    truth = interpolate_scene_tracks(scene.layer("ground_truth").tracks, len(scene.frames))
    stamps = np.array([f.timestamp_us for f in scene.frames])
    variants: list[tuple[str, InterpolationMethod, np.ndarray | None]] = [
        ("linear", "linear", None), ("hermite", "hermite", None), ("hermite + tracker velocities", "hermite", stamps),
    ]  # fmt: skip
    if not has_velocities(candidates):
        # The AV2 fixture's vx/vy/vz columns are all zero: as tangents they would only stop every car.
        variants = variants[:2]
    rows: list[Row] = []
    for label, method, timestamps in variants:
        got = interpolate_scene_tracks(candidates, len(scene.frames), method, timestamps_us=timestamps)
        errors = []
        for track, shapes, match in zip(candidates, got, matches, strict=True):
            if match is None:
                continue
            assert isinstance(track.motion, Keyframed)
            between = ~np.isin(shapes.frames, track.motion.frames) & np.isin(
                shapes.frames, truth[match].frames
            )
            rows_truth = np.searchsorted(truth[match].frames, shapes.frames[between])
            errors.append(
                np.linalg.norm(
                    shapes.cuboids.centers[between] - truth[match].cuboids.centers[rows_truth], axis=1
                )
            )
        all_errors = np.concatenate(errors)
        rows.append({
            "data": name, "keyed every": "2 Hz", "method": label, "tracks": sum(m is not None for m in matches),
            "mean err m": float(all_errors.mean()), "p95 err m": float(np.percentile(all_errors, 95)), "max err m": float(all_errors.max()),
        })  # fmt: skip
    return rows


# --- report ---------------------------------------------------------------------------------------------
def print_rows(title: str, rows: list[Row]) -> None:
    if not rows:
        return
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(column, justify="left" if isinstance(rows[0][column], str) else "right")
    for row in rows:
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()))
    Console(width=200).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="folder holding kitti-tracking/ and argoverse2/",
    )
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per case (after one warm-up)")
    parser.add_argument("--json", type=Path, default=None, help="also write every table to this file")
    args = parser.parse_args()
    results = {
        "timing": bench_timing(args.data_dir, args.repeat),
        "keyframes": bench_keyframes(args.data_dir, args.repeat),
        "quality": bench_quality(args.data_dir, args.repeat),
    }
    print_rows(f"Scene interpolation, median of {args.repeat} runs", results["timing"])
    print_rows("Suggested keyframes (center_tol 0.15 m, yaw_tol 0.05 rad)", results["keyframes"])
    print_rows("Ground truth keyed sparsely: centre error between keyframes", results["quality"])
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
