"""A real import killed with SIGKILL mid-way leaves the database consistent (SQLite file and PostgreSQL)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import scenes
from labelpilot.services.actors import SYSTEM
from labelpilot.store.blobs import BlobStore
from tests.services.scene_helpers import blob_files, make_team, table_counts

REPO = Path(__file__).resolve().parents[2]
KILL_AFTER_FRAMES = 5
FRAME_DELAY_S = 0.1  # keeps the child inside its transaction long enough to be killed mid-way


def _progress(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _wait_for_frames(child: subprocess.Popen[bytes], path: Path, frames: int, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while len(_progress(path)) < frames:
        if child.poll() is not None:
            raise AssertionError(
                f"the import ended early: {child.stderr.read().decode() if child.stderr else ''}"
            )
        if time.monotonic() > deadline:
            child.kill()
            raise AssertionError("the import wrote no frames in time")
        time.sleep(0.02)


def test_sigkill_during_import_leaves_no_rows_and_a_new_import_works(
    db_engine: Engine, db_factory: sessionmaker[Session], sample_dir: Path, tmp_path: Path
) -> None:
    source = sample_dir / "kitti-odometry-00-demo"  # the 30-sweep demo drive
    total = len(list((source / "clouds").glob("*.npz")))
    blob_root = tmp_path / "blobs"
    with db_factory.begin() as s:
        team = make_team(s)
    before = dict.fromkeys(table_counts_of(db_factory), 0)
    progress_file = tmp_path / "progress.txt"
    child = subprocess.Popen(
        [
            sys.executable, "-m", "tests.services.kill_import",
            db_engine.url.render_as_string(hide_password=False), str(blob_root), str(team.project_id),
            "kitti-odometry", str(source), str(progress_file), str(FRAME_DELAY_S),
        ],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait_for_frames(child, progress_file, KILL_AFTER_FRAMES)
        orphans = blob_files(blob_root)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
    lines = _progress(progress_file)
    assert not any(line.startswith("committed") for line in lines)
    assert KILL_AFTER_FRAMES <= len(lines) < total  # killed while frames were being written
    assert len(orphans) >= KILL_AFTER_FRAMES
    # The database holds nothing of the killed import; its blobs are orphans under scenes/<its id>/.
    assert table_counts_of(db_factory) == before
    killed_prefixes = {p.relative_to(blob_root).parts[:2] for p in blob_files(blob_root)}
    assert len(killed_prefixes) == 1
    # A new import afterwards works and owns exactly its own blobs.
    blobs = BlobStore(str(blob_root))
    with db_factory.begin() as s:
        row = scenes.import_scene(s, blobs, SYSTEM, team.project_id, "kitti-odometry", source)
    with db_factory.begin() as s:
        assert len(scenes.list_frames(s, SYSTEM, row.id)) == total
        assert table_counts(s)["frames"] == total and table_counts(s)["scenes"] == 1
        for frame in range(total):
            scenes.sweep_bytes(s, blobs, SYSTEM, row.id, frame)
    own = blob_files(blob_root / "scenes" / str(row.id))
    assert len(own) == total and all(p.parent.name == "lidar" for p in own)
    if ("scenes", str(row.id)) in killed_prefixes:  # SQLite hands the rolled-back id out again
        assert len(blob_files(blob_root)) == total


def table_counts_of(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory.begin() as s:
        return table_counts(s)
