"""Real scenes read once per test session (reading is the slow part of many automation tests)."""

from __future__ import annotations

import functools
from pathlib import Path

from labelpilot.formats import read_scene
from labelpilot.scenes import Scene


@functools.cache
def kitti_scene(root: Path, sequence: str) -> Scene:
    return read_scene("kitti-tracking", root, sequence)


@functools.cache
def av2_scene(log_dir: Path) -> Scene:
    return read_scene("av2", log_dir)
