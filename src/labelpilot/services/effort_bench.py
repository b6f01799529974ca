"""A whole effort benchmark run: which scenes of a dataset, each run in a fresh database.

Every run gets its own SQLite file in a temporary folder (a real database, thrown away afterwards),
so the benchmark never touches a team's data and two runs never share state.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelpilot.effort.report import Figures
from labelpilot.effort.results import run_json
from labelpilot.effort.workflows import WorkflowName, WorkflowSettings
from labelpilot.formats import av2, kitti_tracking
from labelpilot.formats.errors import FormatError
from labelpilot.services.effort_runs import SceneSource, run_scene
from labelpilot.store.blobs import BlobStore
from labelpilot.store.db import make_engine, make_session_factory, transaction
from labelpilot.store.migrate import upgrade

DATASETS = ("kitti-tracking", "av2")
AUTO_LABELS = ("pointrcnn", "tracker")
AV2_TRACKER_FILE = "tracker_predictions.feather"


@dataclass(frozen=True)
class EffortRequest:
    dataset: str
    root: Path
    sequences: Sequence[str] | None
    auto_labels: str
    workflows: Sequence[WorkflowName]
    wage: float
    settings: WorkflowSettings


def _kitti_auto_layer(root: Path, auto_labels: str, sequence: str) -> str:
    folder = "detections" if auto_labels == "pointrcnn" else "tracker"
    names = sorted(p.name for p in (root / folder).glob("*") if (p / f"{sequence}.txt").is_file())
    if auto_labels == "pointrcnn":
        if not any(n.startswith("pointrcnn_") for n in names):
            raise FormatError(
                root / folder, f"no PointRCNN detections for sequence {sequence}", field="auto_labels"
            )
        return "auto:pointrcnn"
    if not names:
        raise FormatError(root / folder, f"no tracker output for sequence {sequence}", field="auto_labels")
    return f"auto:{names[0]}"


def scene_sources(
    dataset: str, root: Path, sequences: Sequence[str] | None, auto_labels: str
) -> list[SceneSource]:
    """The scenes to run: those named, else every one in ``root`` that has the auto labels asked for."""
    if dataset == "kitti-tracking":
        known = kitti_tracking.available_sequences(root)
        wanted = [s.zfill(4) if s.isdigit() else s for s in sequences] if sequences else known
        unknown = [s for s in wanted if s not in known]
        if unknown:
            raise FormatError(root, f"no sequences {unknown}; this root holds: {', '.join(known) or 'none'}")
        return [
            SceneSource(dataset, root, s, _kitti_auto_layer(root, auto_labels, s), s)
            for s in wanted
            if sequences or (root / "training" / "label_02" / f"{s}.txt").is_file()
        ]
    if dataset == "av2":
        if auto_labels != "tracker":
            raise FormatError(
                root, "Argoverse 2 logs carry tracker predictions only: use --auto-labels tracker"
            )
        logs = root / "logs" if (root / "logs").is_dir() else root
        with_tracker = sorted(p.name for p in logs.iterdir() if (p / AV2_TRACKER_FILE).is_file())
        wanted = list(sequences) if sequences else with_tracker
        for log in wanted:
            log_dir = av2.find_log_dir(logs, log)
            if not (log_dir / AV2_TRACKER_FILE).is_file():
                raise FormatError(log_dir, f"has no {AV2_TRACKER_FILE} (the auto labels)", field="logs")
        if not wanted:
            raise FormatError(logs, f"no log has {AV2_TRACKER_FILE}")
        return [SceneSource(dataset, logs, log, "auto:tracker", log[:8]) for log in wanted]
    raise FormatError(root, f"unknown dataset {dataset!r} (known: {', '.join(DATASETS)})", field="dataset")


Progress = Callable[[str, str], None]


def run_effort(request: EffortRequest, progress: Progress | None = None) -> dict[str, Any]:
    """Run every workflow on every scene; the result as ``effort.results.run_json`` describes it."""
    sources = scene_sources(request.dataset, request.root, request.sequences, request.auto_labels)
    per_sequence: dict[str, dict[str, Figures]] = {}
    with tempfile.TemporaryDirectory(prefix="labelpilot-effort-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'effort.sqlite'}")
        try:
            upgrade(engine)
            factory = make_session_factory(engine)
            blobs = BlobStore(str(Path(tmp) / "blobs"))
            for source in sources:
                with transaction(factory) as session:
                    outcomes = run_scene(
                        session, blobs, source, request.workflows, request.settings, progress
                    )
                per_sequence[source.name] = {name: o.figures for name, o in outcomes.items()}
        finally:
            engine.dispose()
    return run_json(
        per_sequence,
        dataset=request.dataset,
        auto_labels=request.auto_labels,
        wage=request.wage,
        settings=request.settings,
    )
