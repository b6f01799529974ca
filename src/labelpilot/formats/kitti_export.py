"""Write a scene's layer as a KITTI tracking sequence, all or nothing.

Files written under ``out`` (sequence = the scene's name if it is four digits, else ``0000``):

- ``training/label_02/SSSS.txt``: one line per shape. Shapes are derived per frame (interpolated in
  the world, moved into each frame's ego frame, then into the label frame), so frames between
  keyframes are written too, while a track's absent frames are not. Rejected tracks are left out.
  A layer of candidates (named ``auto:*``, or all of whose tracks are candidates) is written as
  KITTI results, with a trailing score (per-frame ``score``, else the track's score, else 1).
  Columns come from ``frame_attributes`` where the source gave them; otherwise truncated and
  occluded are 0 (-1 for results), alpha is computed from rotation_y and the ray to the box, and
  the 2D box is the cuboid projected into the label camera (``-1 -1 -1 -1`` when it falls outside).
  Labels that are not KITTI types are mapped (``kitti_labels.kitti_type``), unknown ones to Misc.
  Track ids that are not non-negative integers get fresh integers. DontCare regions kept on the
  layer's ``tracks_2d`` are written back; other 2D-only tracks have no KITTI form and are skipped.
- ``training/calib/SSSS.txt``: from the scene's cameras (see ``kitti_calib.export_calib``).
- ``poses/labelpilot/SSSS.txt``: the label camera's camera-to-world pose per frame, first = identity.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from labelpilot.formats.kitti_boxes import ego_cuboids_to_camera, observation_angle
from labelpilot.formats.kitti_calib import ExportCalib, export_calib, format_tracking_calib
from labelpilot.formats.kitti_labels import DONT_CARE, format_dont_care_line, format_label_line, kitti_type
from labelpilot.formats.kitti_poses import camera_poses_from_ego, format_pose_lines
from labelpilot.formats.staging import staged_tree
from labelpilot.geometry import Pose
from labelpilot.geometry.projection import project_cuboid_bbox
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, AttributeValue, Track, TrackStatus

POSES_NAME = "labelpilot"
_NO_BOX = (-1.0, -1.0, -1.0, -1.0)


def sequence_name(scene: Scene) -> str:
    return scene.name if re.fullmatch(r"\d{4}", scene.name) else "0000"


def is_result_layer(layer: AnnotationLayer) -> bool:
    return layer.name.startswith("auto:") or (
        bool(layer.tracks) and all(t.status is TrackStatus.CANDIDATE for t in layer.tracks)
    )


def export_ids(tracks: Sequence[Track]) -> dict[str, int]:
    """KITTI needs integer ids: numeric ids are kept, the others numbered after the largest."""
    numeric = {t.track_id: int(t.track_id) for t in tracks if t.track_id.isdigit()}
    next_id = max(numeric.values(), default=-1) + 1
    ids: dict[str, int] = {}
    for track in tracks:
        if track.track_id in numeric:
            ids[track.track_id] = numeric[track.track_id]
        else:
            ids[track.track_id] = next_id
            next_id += 1
    return ids


def _number(attributes: dict[str, AttributeValue | list[float]], key: str) -> float | None:
    value = attributes.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _bbox(attributes: dict[str, AttributeValue | list[float]]) -> tuple[float, float, float, float] | None:
    value = attributes.get("bbox_2d")
    if isinstance(value, list) and len(value) == 4:
        x1, y1, x2, y2 = (float(v) for v in value)
        return x1, y1, x2, y2
    return None


def _result_score(frame_score: float | None, track: Track) -> float:
    if frame_score is not None:
        return frame_score
    return track.score if track.score is not None else 1.0


def _track_lines(
    scene: Scene, track: Track, kitti_id: int, calib: ExportCalib, results: bool
) -> list[tuple[int, int, str]]:
    """(frame, id, line) for every shape of the track."""
    shapes = scene.ego_shapes(track)
    boxes = ego_cuboids_to_camera(shapes.cuboids, calib.ref_T_ego)
    alphas = observation_angle(boxes.rotation_y, boxes.bottoms)
    camera = calib.label_camera
    camera_T_ego = camera.ego_T_sensor.inverse()
    image_size = (camera.intrinsics.width, camera.intrinsics.height)
    label = kitti_type(track.label)
    unknown = -1 if results else 0
    lines: list[tuple[int, int, str]] = []
    for i, frame in enumerate(shapes.frames.tolist()):
        given = track.frame_attributes.get(frame, {})
        bbox = _bbox(given)
        if bbox is None:
            projected = project_cuboid_bbox(
                shapes.cuboids[i].transformed(camera_T_ego), camera.intrinsics.matrix, image_size=image_size
            )
            bbox = projected if projected is not None else _NO_BOX
        alpha = _number(given, "alpha")
        truncated = _number(given, "truncated")
        occluded = _number(given, "occluded")
        score = _number(given, "score")
        line = format_label_line(
            frame,
            kitti_id,
            label,
            bbox,
            boxes.dims_hwl[i],
            boxes.bottoms[i],
            float(boxes.rotation_y[i]),
            truncated=unknown if truncated is None else truncated,
            occluded=unknown if occluded is None else int(occluded),
            alpha=float(alphas[i]) if alpha is None else alpha,
            score=_result_score(score, track) if results else None,
        )
        lines.append((frame, kitti_id, line))
    return lines


def format_layer(scene: Scene, layer: AnnotationLayer, calib: ExportCalib) -> str:
    """The label file text: per frame, the objects by id, then that frame's DontCare regions."""
    results = is_result_layer(layer)
    kept = [t for t in layer.tracks if t.status is not TrackStatus.REJECTED]
    ids = export_ids(kept)
    by_frame: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for track in kept:
        for frame, kitti_id, line in _track_lines(scene, track, ids[track.track_id], calib, results):
            by_frame[frame].append((kitti_id, line))
    dont_care: dict[int, list[str]] = defaultdict(list)
    for region in layer.tracks_2d:
        if region.label != DONT_CARE:
            continue
        for frame, box in sorted(region.boxes.items()):
            bbox = (box.left, box.top, box.left + box.width, box.top + box.height)
            dont_care[frame].append(format_dont_care_line(frame, bbox))
    lines: list[str] = []
    for frame in sorted(set(by_frame) | set(dont_care)):
        lines += [line for _, line in sorted(by_frame[frame], key=lambda item: item[0])]
        lines += dont_care[frame]
    return "".join(line + "\n" for line in lines)


def _ego_T_lidar(scene: Scene) -> Pose:
    return scene.lidar.ego_T_sensor if scene.lidar is not None else Pose.identity()


def write_layer(scene: Scene, out: Path, layer_name: str) -> list[Path]:
    """Render every file first, then move them into ``out`` together (nothing is left half-written)."""
    if layer_name not in scene.layers:
        known = ", ".join(scene.layers) or "none"
        raise ValueError(f"scene {scene.name} has no layer {layer_name!r} (layers: {known})")
    sequence = sequence_name(scene)
    calib = export_calib(scene.cameras, _ego_T_lidar(scene))
    camera_poses = camera_poses_from_ego(
        [f.world_T_ego for f in scene.frames], calib.label_camera.ego_T_sensor
    )
    texts = {
        Path("training") / "label_02" / f"{sequence}.txt": format_layer(
            scene, scene.layers[layer_name], calib
        ),
        Path("training") / "calib" / f"{sequence}.txt": format_tracking_calib(calib),
        Path("poses") / POSES_NAME / f"{sequence}.txt": format_pose_lines(camera_poses),
    }
    with staged_tree(out) as staging:
        for relative, text in texts.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return [out / relative for relative in texts]
