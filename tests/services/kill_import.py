"""Run one real scene import in its own process, reporting progress to a file (for the SIGKILL test).

    python -m tests.services.kill_import DB_URL BLOB_ROOT PROJECT_ID FORMAT PATH PROGRESS_FILE [FRAME_DELAY_S]

After each frame's payloads are stored it appends ``<done> <total>`` to PROGRESS_FILE and waits
FRAME_DELAY_S (default 0), so that a test can kill the process while frames are being written;
``committed <scene id>`` is appended once the transaction has committed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from labelpilot.services import scenes
from labelpilot.services.actors import SYSTEM
from labelpilot.store.blobs import BlobStore
from labelpilot.store.db import make_engine, make_session_factory


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def main(argv: list[str]) -> None:
    db_url, blob_root, project_id, format_name, source, progress_file, *rest = argv
    delay = float(rest[0]) if rest else 0.0
    report = Path(progress_file)

    def progress(done: int, total: int) -> None:
        _append(report, f"{done} {total}")
        time.sleep(delay)

    engine = make_engine(db_url)
    with make_session_factory(engine).begin() as session:
        scene = scenes.import_scene(
            session,
            BlobStore(blob_root),
            SYSTEM,
            int(project_id),
            format_name,
            Path(source),
            progress=progress,
        )
    _append(report, f"committed {scene.id}")
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
