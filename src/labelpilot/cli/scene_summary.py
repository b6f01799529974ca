"""A human-readable summary of a scene, for ``labelpilot inspect``."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from labelpilot.scenes import Scene


def render_scene_summary(scene: Scene) -> Group:
    lidar_frames = sum(1 for f in scene.frames if f.lidar is not None)
    image_count = sum(len(f.images) for f in scene.frames)
    head = Table.grid(padding=(0, 2))
    head.add_row("scene", scene.name)
    head.add_row("format", scene.source_format or "-")
    head.add_row("frames", str(len(scene.frames)))
    head.add_row("duration", f"{scene.duration_s:.1f} s")
    lidar = scene.lidar.name if scene.lidar else "none"
    head.add_row("lidar", f"{lidar} ({lidar_frames} sweeps)")
    cams = ", ".join(f"{c.name} {c.intrinsics.width}x{c.intrinsics.height}" for c in scene.cameras.values())
    head.add_row("cameras", f"{cams or 'none'} ({image_count} images)")

    layers = Table(title="layers", title_justify="left")
    for column in ("layer", "tracks", "stationary", "shapes", "tracks per class"):
        layers.add_column(column)
    for layer in scene.layers.values():
        stationary = sum(1 for t in layer.tracks if t.is_stationary)
        per_class = ", ".join(f"{label}: {n}" for label, n in layer.counts_by_label().items())
        layers.add_row(
            layer.name,
            str(len(layer.tracks) + len(layer.tracks_2d)),
            str(stationary),
            str(layer.shape_count()),
            per_class or "-",
        )
    parts: list[Table | Text] = [head, layers]
    if scene.notes:
        parts.append(Text("notes:\n" + "\n".join(f"  - {n}" for n in scene.notes)))
    return Group(*parts)
