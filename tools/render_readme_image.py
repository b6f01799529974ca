"""Render the README picture: KITTI 0001 frame 10 with its ground-truth cuboids projected into image_02.

    .venv/bin/python tools/render_readme_image.py [OUT.jpg]

It goes through the same path as the product: import, world-frame tracks, derived ego-frame shapes,
camera extrinsics and intrinsics, projection with near-plane clipping.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

from labelpilot.formats import read_scene
from labelpilot.formats.sweeps import local_path
from labelpilot.geometry import project_cuboid_edges

REPO = Path(__file__).resolve().parent.parent
COLOURS = {"Car": (0, 220, 255), "Van": (255, 200, 0), "Pedestrian": (255, 60, 60), "Cyclist": (120, 255, 90)}


def render(out: Path, frame_index: int = 10) -> None:
    scene = read_scene("kitti-tracking", REPO / "data" / "sample" / "kitti-tracking", "0001")
    camera = scene.cameras["image_02"]
    frame = scene.frames[frame_index]
    image = Image.open(local_path(frame.images["image_02"].url)).convert("RGB")
    draw = ImageDraw.Draw(image)
    cam_T_ego = camera.ego_T_sensor.inverse()
    for track, cuboid in scene.shapes_in_frame("ground_truth", frame_index):
        colour = COLOURS.get(track.label, (230, 230, 230))
        for start, end in project_cuboid_edges(cuboid.transformed(cam_T_ego), camera.intrinsics.matrix):
            draw.line([tuple(start), tuple(end)], fill=colour, width=2)
    image.save(out, quality=88)


if __name__ == "__main__":
    render(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "images" / "kitti-0001-frame10.jpg")
