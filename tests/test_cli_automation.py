"""labelpilot autolabel and labelpilot guidance on a real database (SQLite file and PostgreSQL) and real scenes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from labelpilot.automation.candidates import build_candidates
from labelpilot.automation.detector import detector_layer
from labelpilot.automation.sweep_access import SceneSweeps
from labelpilot.cli import app
from labelpilot.formats import read_scene
from labelpilot.store.tables import EventRow, LayerRow, TrackRow


@pytest.fixture
def runner(db_engine: Engine, tmp_path: Path) -> CliRunner:
    return CliRunner(
        env={
            "LABELPILOT_HOME": str(tmp_path / "home"),
            "LABELPILOT_DATABASE_URL": db_engine.url.render_as_string(hide_password=False),
            "COLUMNS": "200",
        }
    )


def _ok(runner: CliRunner, args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def _layer_size(engine: Engine, scene_id: int, name: str) -> int:
    with Session(engine) as s:
        query = (
            select(func.count())
            .select_from(TrackRow)
            .join(LayerRow, LayerRow.id == TrackRow.layer_id)
            .where(LayerRow.scene_id == scene_id, LayerRow.name == name)
        )
        return int(s.scalar(query) or 0)


def test_autolabel_from_a_layer_of_kitti(runner: CliRunner, db_engine: Engine, sample_dir: Path) -> None:
    root = sample_dir / "kitti-tracking"
    _ok(runner, ["projects", "create", "p"])
    scene_id = int(_ok(runner, ["import", "kitti-tracking", str(root), "-p", "p", "-s", "0001"]).strip())
    domain = read_scene("kitti-tracking", root, "0001")
    expected = len(build_candidates(domain, domain.layers["auto:pointrcnn"]).tracks)

    out = _ok(runner, ["autolabel", "--scene", str(scene_id), "--from", "auto:pointrcnn"])
    assert "candidates:auto:pointrcnn" in out and str(expected) in out
    assert "ego poses: corrected" in out and "active: corrected" in out  # stationary candidates as landmarks
    assert _layer_size(db_engine, scene_id, "candidates:auto:pointrcnn") == expected
    with Session(db_engine) as s:
        runs = s.scalars(select(EventRow).where(EventRow.kind == "autolabel_run")).all()
        assert [r.payload["layers"][0]["tracks"] for r in runs] == [expected]

    for args, message in [
        (["autolabel", "--scene", str(scene_id)], "either --from"),
        (
            ["autolabel", "--scene", str(scene_id), "--from", "auto:pointrcnn", "--detector", "classic"],
            "either --from",
        ),
        (["autolabel", "--scene", str(scene_id), "--detector", "classic"], "no lidar sweeps"),
        (["autolabel", "--scene", str(scene_id), "--from", "ground_truth"], "ground_truth"),
        (["autolabel", "--scene", "999", "--from", "auto:pointrcnn"], "scene 999 not found"),
        (["guidance", "--scene", str(scene_id), "--layer", "ground_truth"], "ground_truth"),
        (["guidance", "--scene", str(scene_id), "--task", "999"], "task 999 not found"),
    ]:
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)


def test_classic_detector_then_guidance(runner: CliRunner, db_engine: Engine, sample_dir: Path) -> None:
    root = sample_dir / "sustechpoints"
    _ok(runner, ["projects", "create", "p"])
    scene_id = int(_ok(runner, ["import", "sustechpoints", str(root), "-p", "p"]).strip())
    domain = read_scene("sustechpoints", root)
    detections = len(detector_layer(domain, SceneSweeps(domain)).tracks)
    assert detections > 0
    out = _ok(runner, ["autolabel", "--scene", str(scene_id), "--detector", "classic"])
    assert "auto:classic" in out and "candidates:auto:classic" in out and str(detections) in out
    assert _layer_size(db_engine, scene_id, "auto:classic") == detections
    again = _ok(runner, ["autolabel", "--scene", str(scene_id), "--detector", "classic"])
    assert "yes" in again and _layer_size(db_engine, scene_id, "auto:classic") == detections

    listed = json.loads(_ok(runner, ["guidance", "--scene", str(scene_id), "--limit", "4", "--json"]))
    assert 0 < len(listed) <= 4 and all(set(a) >= {"kind", "frame", "key", "priority"} for a in listed)
    priorities = [a["priority"] for a in listed]
    assert priorities == sorted(priorities, reverse=True)
    table = _ok(runner, ["guidance", "--scene", str(scene_id), "--layer", "work", "--limit", "4"])
    assert all(a["kind"] in table and a["key"] in table for a in listed)
