"""Run the effort benchmark's workflows on one scene, in a database, as an annotator would.

A manager (the system actor) creates a project, imports the scene with its ground truth and auto
labels, turns single-frame detections into candidate tracks (``autolabel``, as a manager would), and
queues one task per workflow, each in its own layer, for one annotator. The annotator starts each
task, works it through the editor's operations (``services.effort_editor``), and submits it. Then the
delivered layer is read back from the database and measured against the scene's ground truth.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.effort.annotator import Annotator
from labelpilot.effort.ground_truth import GroundTruth
from labelpilot.effort.ledger import Ledger
from labelpilot.effort.oracle import Oracle
from labelpilot.effort.quality import Evaluation, evaluate
from labelpilot.effort.report import Figures, figures
from labelpilot.effort.workflows import WorkflowName, WorkflowSettings, annotator_tools, run_workflow
from labelpilot.services import automation_runs, tasks
from labelpilot.services.accounts import actor_of, create_user, get_user_by_name
from labelpilot.services.actors import SYSTEM, Role
from labelpilot.services.effort_editor import ServiceEditor
from labelpilot.services.errors import InvalidError
from labelpilot.services.projects import create_project, set_member
from labelpilot.services.scene_browse import scene_frame_period_s
from labelpilot.services.scene_import import import_scene
from labelpilot.services.scene_load import layer_tracks
from labelpilot.store.blobs import BlobStore
from labelpilot.store.tables import LayerRow

GROUND_TRUTH = "ground_truth"
ANNOTATOR = "effort-annotator"
DEFAULT_SETTINGS = WorkflowSettings()


@dataclass(frozen=True)
class SceneSource:
    """Where a scene comes from and which of its ``auto:*`` layers are the auto labels."""

    format_name: str
    path: Path
    sequence: str | None
    auto_layer: str | None
    """None: no auto labels (then the guided workflow cannot run)."""
    name: str


@dataclass(frozen=True)
class WorkflowOutcome:
    figures: Figures
    evaluation: Evaluation


Progress = Callable[[str, str], None]
"""Told (scene name, workflow name) when a workflow has finished."""


def _layer_names(session: Session, scene_id: int) -> list[str]:
    return list(
        session.scalars(select(LayerRow.name).where(LayerRow.scene_id == scene_id).order_by(LayerRow.id))
    )


def _layer_id(session: Session, scene_id: int, name: str) -> int:
    layer_id = session.scalar(select(LayerRow.id).where(LayerRow.scene_id == scene_id, LayerRow.name == name))
    if layer_id is None:
        raise InvalidError(f"scene {scene_id} has no layer {name!r}", field="layer")
    return layer_id


def _candidate_layer(session: Session, blobs: BlobStore, scene_id: int, auto_layer: str) -> str:
    """The layer of candidate tracks the guided workflow confirms: the auto layer's boxes associated
    into tracks (``automation_runs.autolabel``), a tracker's as well as a detector's. A tracker's own
    association loses objects and starts new tracks for them; ours, with its score-gated births and
    the re-association across gaps, gave better candidates on the Argoverse 2 log than the tracker's
    tracks as they are (docs/benchmarks.md)."""
    names = _layer_names(session, scene_id)
    if auto_layer not in names:
        autos = ", ".join(n for n in names if n.startswith("auto:")) or "none"
        raise InvalidError(
            f"the scene has no auto-label layer {auto_layer!r} (it has: {autos})", field="auto_labels"
        )
    summary = automation_runs.autolabel(session, blobs, SYSTEM, scene_id, from_layer=auto_layer)
    return str(summary["layers"][-1]["name"])


@dataclass
class PreparedScene:
    project_id: int
    scene_id: int
    candidate_layer: str | None
    truth: GroundTruth
    settings: WorkflowSettings


def prepare_scene(
    session: Session, blobs: BlobStore, source: SceneSource, settings: WorkflowSettings
) -> PreparedScene:
    """Project, annotator, imported scene and candidates; the ground truth the benchmark measures with."""
    project = create_project(session, SYSTEM, f"effort {source.name}")
    create_user(session, f"{ANNOTATOR}-{project.id}", None)
    set_member(session, SYSTEM, project.id, f"{ANNOTATOR}-{project.id}", Role.ANNOTATOR)
    scene_row = import_scene(
        session, blobs, SYSTEM, project.id, source.format_name, source.path, source.sequence, name=source.name
    )
    candidate_layer = (
        None
        if source.auto_layer is None
        else _candidate_layer(session, blobs, scene_row.id, source.auto_layer)
    )
    truth = GroundTruth(layer_tracks(session, _layer_id(session, scene_row.id, GROUND_TRUTH)))
    period = scene_frame_period_s(session, scene_row.id)
    scene_settings = dataclasses.replace(settings, frame_period_s=period)
    return PreparedScene(project.id, scene_row.id, candidate_layer, truth, scene_settings)


def run_one(
    session: Session, blobs: BlobStore, prepared: PreparedScene, workflow: WorkflowName
) -> WorkflowOutcome:
    """One workflow in its own task and layer, worked by the project's annotator, then measured."""
    annotator_name = f"{ANNOTATOR}-{prepared.project_id}"
    layer = f"effort-{workflow.replace('_', '-')}"
    task = tasks.create_task(
        session,
        SYSTEM,
        prepared.project_id,
        prepared.scene_id,
        "annotate",
        layer=layer,
        assignee=annotator_name,
    )
    actor = actor_of(get_user_by_name(session, annotator_name))
    tasks.start_task(session, actor, task.id)
    candidates: list[str] = []
    if workflow == "guided":
        if prepared.candidate_layer is None:
            raise InvalidError("the guided workflow needs auto labels", field="auto_labels")
        candidates = [prepared.candidate_layer]
    editor = ServiceEditor(session, blobs, actor, prepared.scene_id, task.id, candidates)
    ledger = Ledger()
    mode, keys = annotator_tools(workflow)
    annotator = Annotator(editor, Oracle(prepared.truth, ledger), mode=mode, keys=keys)
    run_workflow(workflow, annotator, prepared.settings)
    delivered = layer_tracks(session, _layer_id(session, prepared.scene_id, layer))
    evaluation = evaluate(prepared.truth, delivered)
    return WorkflowOutcome(figures(prepared.truth, ledger, evaluation), evaluation)


def run_scene(
    session: Session,
    blobs: BlobStore,
    source: SceneSource,
    workflows: Sequence[WorkflowName],
    settings: WorkflowSettings = DEFAULT_SETTINGS,
    progress: Progress | None = None,
) -> dict[str, WorkflowOutcome]:
    prepared = prepare_scene(session, blobs, source, settings)
    outcomes: dict[str, WorkflowOutcome] = {}
    for workflow in workflows:
        outcomes[workflow] = run_one(session, blobs, prepared, workflow)
        if progress is not None:
            progress(source.name, workflow)
    return outcomes
