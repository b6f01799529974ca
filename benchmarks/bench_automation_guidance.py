"""The guidance queue on real data: size, time, and how right its suggestions are against ground truth.

    .venv/bin/python benchmarks/bench_automation_guidance.py [--data-dir DIR] [--json OUT]

DIR defaults to ../shared/data when present (every KITTI tracking sequence and Argoverse 2 log), else
the bundled data/sample. Per scene, ``next_best_actions`` runs on an empty work layer with the raw
detections (KITTI ``auto:pointrcnn``, built into candidates) or the tracker (Argoverse 2 ``auto:tracker``)
as candidates. Ground truth only measures (matching and the truth rule of
tests/automation/stationary_evaluation.py):

* ``parked->s``: share of candidates of parked objects offered as ``confirm_stationary``;
* ``s prec``: share of the stationary suggestions of matched candidates whose object is parked;
* ``moving->kf``: share of candidates of moving objects offered as ``confirm_moving``, and ``kf/frame``
  their suggested keyframes over their frames;
* ``reject prec``: share of reject suggestions that match no labelled object (and the base rate:
  the share of all candidates that match none); ``confirm prec``: share of confirm suggestions that
  match a labelled object;
* ``saves``: the summed ``saves_seconds`` of the queue, against its summed ``cost_seconds``;
* ``time s``: the queue computed on a fresh ``GuidanceMemo`` (cold: every per-track result computed and
  stored); ``warm s``: the queue computed again on that memo after one candidate changed (the first box
  of the middle candidate moved 0.3 m; for KITTI its first detection, so that the candidate is associated
  anew), which is what the editor asks for after a person's decision. The warm queue still
  classifies the whole layer, builds the KITTI candidates from the detections and recomputes what the
  change touched (``warm_recomputed`` in the JSON: the memo's misses).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the evaluation helpers live with the tests

from tests.automation.stationary_evaluation import KITTI_MAX_DRIFT, matched_truth  # noqa: E402

from labelpilot.automation.candidates import build_candidates  # noqa: E402
from labelpilot.formats import read_scene  # noqa: E402
from labelpilot.geometry import Pose  # noqa: E402
from labelpilot.guidance.engine import next_best_actions  # noqa: E402
from labelpilot.guidance.memo import GuidanceMemo  # noqa: E402
from labelpilot.scenes import Scene  # noqa: E402
from labelpilot.tracks import AnnotationLayer, Keyframed, Stationary, Track  # noqa: E402

SHARED_DATA = REPO.parent / "shared" / "data"
DEFAULT_DATA_DIR = SHARED_DATA if SHARED_DATA.is_dir() else REPO / "data" / "sample"


def load_scenes(data_dir: Path) -> Iterator[tuple[str, Scene, str]]:
    """(data set, scene, candidate layer) for every scene with auto labels under ``data_dir``."""
    kitti = data_dir / "kitti-tracking"
    for labels in sorted((kitti / "training" / "label_02").glob("*.txt")):
        yield "kitti", read_scene("kitti-tracking", kitti, labels.stem), "auto:pointrcnn"
    for log in sorted((data_dir / "argoverse2" / "logs").glob("*")):
        scene = read_scene("av2", log) if log.is_dir() else None
        if scene is not None and "auto:tracker" in scene.layers:
            yield "av2", scene, "auto:tracker"


def _share(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def _moved(pose: Pose, metres: float) -> Pose:
    matrix = pose.matrix.copy()
    matrix[0, 3] += metres
    return Pose(matrix)


def changed_track_id(candidates: AnnotationLayer) -> str:
    """The track to change: the middle candidate, or for candidates built from detections the first
    detection of the middle candidate (so that the candidate is associated anew)."""
    middle = candidates.tracks[len(candidates) // 2]
    sources = [a["det_source"] for _, a in sorted(middle.frame_attributes.items()) if "det_source" in a]
    return str(sources[0]) if sources else middle.track_id


def with_one_changed(scene: Scene, layer_name: str, track_id: str, metres: float = 0.3) -> Scene:
    """A copy of ``scene`` whose track ``track_id`` of layer ``layer_name`` has its first box moved by
    ``metres``."""
    tracks = list(scene.layer(layer_name).tracks)
    index = next(i for i, t in enumerate(tracks) if t.track_id == track_id)
    track: Track = tracks[index]
    if isinstance(track.motion, Keyframed):
        keyframes = dict(track.motion.keyframes)
        first = next(iter(keyframes))
        keyframes[first] = _moved(keyframes[first], metres)
        tracks[index] = dataclasses.replace(track, motion=Keyframed(keyframes))
    else:
        tracks[index] = dataclasses.replace(track, motion=Stationary(_moved(track.motion.world_pose, metres)))
    layers = {**scene.layers, layer_name: AnnotationLayer(layer_name, tracks)}
    return Scene(scene.name, scene.frames, scene.lidar, scene.cameras, layers)


def measure(dataset: str, scene: Scene, layer_name: str) -> dict[str, object]:
    memo = GuidanceMemo()
    start = time.perf_counter()
    actions = next_best_actions(scene, "work", [layer_name], memo=memo)
    seconds = time.perf_counter() - start
    layer = scene.layer(layer_name)
    candidates: AnnotationLayer = build_candidates(scene, layer) if dataset == "kitti" else layer
    changed = with_one_changed(scene, layer_name, changed_track_id(candidates))
    cold_misses = memo.misses
    start = time.perf_counter()
    next_best_actions(changed, "work", [layer_name], memo=memo)
    warm_seconds = time.perf_counter() - start
    still = matched_truth(scene, candidates, KITTI_MAX_DRIFT if dataset == "kitti" else 0.0)
    by_track = {a.track_id: a for a in actions}
    kinds = Counter(a.kind for a in actions)
    parked = [c for c, s in still.items() if s]
    moving = [c for c, s in still.items() if not s]
    offered = [c for c in still if by_track[c].kind == "confirm_stationary"]
    moving_kf = [by_track[c] for c in moving if by_track[c].kind == "confirm_moving"]
    rejects = [a for a in actions if a.kind == "reject_false_positive"]
    confirms = [a for a in actions if a.kind in ("confirm_stationary", "confirm_moving")]
    return {
        "dataset": dataset,
        "scene": scene.name[:8],
        "candidates": len(candidates),
        "actions": len(actions),
        "seconds": seconds,
        "warm_seconds": warm_seconds,
        "warm_recomputed": memo.misses - cold_misses,
        "stationary": kinds["confirm_stationary"],
        "moving": kinds["confirm_moving"],
        "reject": kinds["reject_false_positive"],
        "parked_matched": len(parked),
        "parked_offered_stationary": _share(
            sum(by_track[c].kind == "confirm_stationary" for c in parked), len(parked)
        ),
        "stationary_precision": _share(sum(still[c] for c in offered), len(offered)),
        "moving_matched": len(moving),
        "moving_offered_keyframes": _share(len(moving_kf), len(moving)),
        "keyframes_per_frame": _share(
            sum(len(a.keyframes) for a in moving_kf),
            sum(len(candidates.track(a.track_id or "").frames()) for a in moving_kf),
        ),
        "reject_precision": _share(sum(a.track_id not in still for a in rejects), len(rejects)),
        "confirm_precision": _share(sum(a.track_id in still for a in confirms), len(confirms)),
        "unmatched_base_rate": _share(sum(t.track_id not in still for t in candidates), len(candidates)),
        "saves_seconds": sum(a.saves_seconds for a in actions),
        "cost_seconds": sum(a.cost_seconds for a in actions),
    }


def report(rows: list[dict[str, object]]) -> None:
    table = Table(title="guidance queue (empty work layer) against ground truth")
    columns = [
        ("scene", "scene", "{}"), ("cands", "candidates", "{}"), ("s", "stationary", "{}"), ("m", "moving", "{}"),
        ("x", "reject", "{}"), ("time s", "seconds", "{:.2f}"), ("warm s", "warm_seconds", "{:.2f}"), ("parked->s", "parked_offered_stationary", "{:.2f}"),
        ("s prec", "stationary_precision", "{:.2f}"), ("moving->kf", "moving_offered_keyframes", "{:.2f}"),
        ("kf/frame", "keyframes_per_frame", "{:.2f}"), ("reject prec", "reject_precision", "{:.2f}"),
        ("base", "unmatched_base_rate", "{:.2f}"), ("confirm prec", "confirm_precision", "{:.2f}"), ("saves s", "saves_seconds", "{:.0f}"),
        ("cost s", "cost_seconds", "{:.0f}"),
    ]  # fmt: skip
    for header, _, _ in columns:
        table.add_column(header, justify="right")
    for row in rows:
        table.add_row(*(fmt.format(row[key]) for _, key, fmt in columns))
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="holds kitti-tracking/, argoverse2/"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this file")
    args = parser.parse_args()
    rows = [measure(dataset, scene, layer) for dataset, scene, layer in load_scenes(args.data_dir)]
    report(rows)
    if args.json is not None:
        args.json.write_text(json.dumps({"data_dir": str(args.data_dir), "scenes": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
