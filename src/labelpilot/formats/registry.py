"""The formats LabelPilot reads and writes, by the names the CLI uses.

Each format is a module in ``labelpilot.formats`` with
``read(path: Path, sequence: str | None = None) -> Scene`` and, where it can export,
``write(scene: Scene, out: Path, layer: str | None = None) -> list[Path]``.
Modules are imported lazily so that one format's heavy dependencies load only when used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Protocol, cast

from labelpilot.scenes import Scene


class SceneReader(Protocol):
    def __call__(self, path: Path, sequence: str | None = None) -> Scene: ...


class SceneWriter(Protocol):
    def __call__(self, scene: Scene, out: Path, layer: str | None = None) -> list[Path]: ...


@dataclass(frozen=True)
class FormatInfo:
    name: str
    module: str
    description: str
    can_write: bool


FORMATS: dict[str, FormatInfo] = {
    info.name: info
    for info in (
        FormatInfo(
            "kitti-tracking", "kitti_tracking", "KITTI tracking (labels, calib, detections, poses)", True
        ),
        FormatInfo("kitti-odometry", "kitti_odometry", "KITTI odometry sweeps with poses", False),
        FormatInfo("av2", "av2", "Argoverse 2 sensor log", False),
        FormatInfo(
            "sustechpoints", "sustechpoints", "SUSTechPOINTS scene (PCD, images, calib, labels)", True
        ),
        FormatInfo("openlabel", "openlabel", "ASAM OpenLABEL 1.0 JSON", True),
        FormatInfo("mot", "mot", "MOTChallenge 2D tracks (camera only)", True),
    )
}


def format_info(name: str) -> FormatInfo:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; known formats: {', '.join(FORMATS)}") from None


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"labelpilot.formats.{format_info(name).module}")


def read_scene(format_name: str, path: Path, sequence: str | None = None) -> Scene:
    reader = cast(SceneReader, _module(format_name).read)
    return reader(path, sequence)


def write_scene(format_name: str, scene: Scene, out: Path, layer: str | None = None) -> list[Path]:
    info = format_info(format_name)
    if not info.can_write:
        writable = ", ".join(n for n, i in FORMATS.items() if i.can_write)
        raise ValueError(f"LabelPilot cannot write {format_name!r}; it writes {writable}")
    writer = cast(SceneWriter, _module(format_name).write)
    return writer(scene, out, layer)
