"""Write outputs all-or-nothing: stage beside the target, move into place only on success."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def staged_file(target: Path) -> Iterator[Path]:
    """Yield a temporary path; on success it atomically replaces ``target``, on error it is removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def staged_tree(target: Path) -> Iterator[Path]:
    """Yield a temporary directory to fill; on success its files move into ``target`` (created if needed).

    Files already in ``target`` with the same relative path are replaced; nothing is moved when the
    body raises, and the staging directory is removed either way.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".staging", dir=target.parent))
    try:
        yield staging
        for src in sorted(p for p in staging.rglob("*") if p.is_file()):
            dest = target / src.relative_to(staging)
            dest.parent.mkdir(parents=True, exist_ok=True)
            src.replace(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
