"""The installation commands on a real database (SQLite file and PostgreSQL) and the bundled sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from labelpilot.cli import app
from labelpilot.formats import read_scene
from labelpilot.store.tables import (
    EventRow,
    FrameRow,
    LayerRow,
    Membership,
    SceneRow,
    TaskRow,
    TrackRow,
    User,
)


@pytest.fixture
def runner(db_engine: Engine, tmp_path: Path) -> CliRunner:
    return CliRunner(
        env={
            "LABELPILOT_HOME": str(tmp_path / "home"),
            "LABELPILOT_DATABASE_URL": db_engine.url.render_as_string(hide_password=False),
            "COLUMNS": "200",
        }
    )


def _ok(runner: CliRunner, args: list[str], stdin: str | None = None) -> str:
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_users_projects_tokens(runner: CliRunner, db_engine: Engine) -> None:
    _ok(runner, ["init"])
    _ok(runner, ["users", "add", "root", "--role", "admin", "--password-stdin"], stdin="a-long-password\n")
    project_id = int(_ok(runner, ["projects", "create", "streets"]).strip())
    _ok(runner, ["users", "add", "ann", "--project", "streets"])
    _ok(runner, ["projects", "add-member", str(project_id), "root", "--role", "coach"])
    token = _ok(runner, ["tokens", "create", "ann"]).strip()
    assert token.startswith("lp_") and len(token) > 30
    with Session(db_engine) as s:
        roles = dict(
            s.execute(
                select(User.name, Membership.role).join(Membership, Membership.user_id == User.id)
            ).all()
        )
        assert roles == {"ann": "annotator", "root": "coach"}
        root = s.scalar(select(User).where(User.name == "root"))
        assert (
            root is not None
            and root.is_admin
            and root.password_hash
            and "a-long-password" not in root.password_hash
        )
    again = runner.invoke(app, ["users", "add", "ann"])
    assert again.exit_code == 2 and "already exists" in again.output
    bad_role = runner.invoke(app, ["users", "add", "bob", "--role", "pilot"])
    assert bad_role.exit_code == 2 and "unknown role" in bad_role.output


def test_import_export_round_trip(
    runner: CliRunner, db_engine: Engine, sample_dir: Path, tmp_path: Path
) -> None:
    _ok(runner, ["projects", "create", "p"])
    root = sample_dir / "kitti-tracking"
    scene_id = int(
        _ok(runner, ["import", "kitti-tracking", str(root), "--project", "p", "-s", "0000"]).strip()
    )
    domain = read_scene("kitti-tracking", root, "0000")
    with Session(db_engine) as s:
        frames = s.scalar(select(func.count()).select_from(FrameRow).where(FrameRow.scene_id == scene_id))
        assert frames == len(domain.frames)
    out = tmp_path / "out.json"
    _ok(runner, ["export", "openlabel", "--scene", str(scene_id), "--layer", "ground_truth", "-o", str(out)])
    back = read_scene("openlabel", out)
    assert len(back.layers["ground_truth"].tracks) == len(domain.layers["ground_truth"].tracks)


def test_a_bad_import_exits_2_and_leaves_nothing(
    runner: CliRunner, db_engine: Engine, sample_dir: Path, tmp_path: Path
) -> None:
    _ok(runner, ["projects", "create", "p"])
    root = tmp_path / "kitti"
    src = sample_dir / "kitti-tracking"
    for sub in ("training/calib", "training/label_02"):
        (root / sub).mkdir(parents=True)
        (root / sub / "0000.txt").write_text((src / sub / "0000.txt").read_text())
    label = root / "training" / "label_02" / "0000.txt"
    lines = label.read_text().splitlines()
    lines[41] = lines[41].replace("Car", "Spaceship", 1) if "Car" in lines[41] else lines[41] + " extra"
    label.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["import", "kitti-tracking", str(root), "--project", "p", "-s", "0000"])
    assert result.exit_code == 2
    assert "0000.txt" in result.output and "line 42" in " ".join(result.output.split())
    with Session(db_engine) as s:
        assert s.scalar(select(func.count()).select_from(SceneRow)) == 0


def test_demo_sets_up_once_and_reuses(
    runner: CliRunner, db_engine: Engine, sample_dir: Path, tmp_path: Path
) -> None:
    first = _ok(runner, ["demo", "--no-serve"])
    logins = json.loads((tmp_path / "home" / "demo-logins.json").read_text())
    assert {row["name"] for row in logins} >= {"admin", "manager", "annotator", "reviewer", "coach"}
    for row in logins:
        assert row["password"] in first
    _ok(runner, ["demo", "--no-serve"])
    with Session(db_engine) as s:
        names = set(s.scalars(select(SceneRow.name)))
        assert len(names) == 2
        assert s.scalar(select(func.count()).select_from(TaskRow)) == 2
        assert (
            s.scalar(select(func.count()).select_from(EventRow).where(EventRow.kind == "scene_imported")) == 2
        )
        sweeps = s.scalar(select(func.count()).select_from(FrameRow).where(FrameRow.lidar_blob.is_not(None)))
        # The tracking scene opens with candidate tracks to confirm, made once.
        candidates = s.scalar(
            select(func.count())
            .select_from(TrackRow)
            .join(LayerRow, LayerRow.id == TrackRow.layer_id)
            .where(LayerRow.name == "candidates:auto:pointrcnn", TrackRow.status == "candidate")
        )
        runs = s.scalar(select(func.count()).select_from(EventRow).where(EventRow.kind == "autolabel_run"))
    assert candidates is not None and candidates > 0
    assert runs == 1
    assert sweeps == len(list((sample_dir / "kitti-odometry-00-demo" / "clouds").glob("*.npz")))
