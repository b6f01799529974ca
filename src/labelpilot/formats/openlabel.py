"""ASAM OpenLABEL 1.0.0: one JSON file per scene, with one annotation layer.

What LabelPilot writes (and reads back exactly):

- ``metadata``: ``schema_version`` "1.0.0", ``name`` (the scene), ``annotator`` "labelpilot",
  ``labelpilot_layer`` (the layer's name) and ``comment`` (its description, if any).
- ``coordinate_systems``: ``odom`` (scene root = LabelPilot's world), ``ego`` (child of ``odom``;
  ``pose_wrt_parent`` = frame 0's ``world_T_ego``) and each sensor as a child of ``ego`` with its
  static ``pose_wrt_parent`` = ``ego_T_sensor`` (``pose_wrt_parent`` maps child points into the
  parent, as in the VCD reference library). Poses are exact ``matrix4x4`` (row-major).
- ``streams``: the lidar (type "lidar") and each camera (type "camera", ``intrinsics_pinhole`` with
  the 3x4 camera matrix, image size and distortion, under the schema's names ``camera_matrix`` /
  ``distortion_coeffs`` and the ``camera_matrix_3x4`` / ``distortion_coeffs_1xN`` that public
  OpenLABEL datasets use).
- ``frames[f].frame_properties``: ``timestamp`` = seconds as a decimal string with six places
  (exact microseconds), the transform ``odom_to_ego`` with src "odom", dst "ego" whose
  ``transform_src_to_dst`` is ``ego_T_world`` (X_ego = M X_odom, per the schema), and the stream
  URIs of the frame's lidar sweep and images (with ``stream_properties.encoding``).
- ``frames[f].objects[uid].object_data``: the cuboid "shape3D" = ``[x, y, z, qx, qy, qz, qw, sx, sy, sz]``
  in "ego" (the track's derived shape in that frame) and the track's frame attributes
  (num / text / boolean / vec; "bbox_2d" [x1, y1, x2, y2] as a bbox [cx, cy, w, h] on the camera
  when that camera is unambiguous: the scene's only camera, or the only one with images).
- ``objects[uid]``: ``name`` = track id, ``type`` = label, ``frame_intervals``, and static data:
  the track's attributes plus "status", "provenance", "provenance_source", "stationary", "score".
  Camera-only tracks (``tracks_2d``, e.g. KITTI DontCare regions) are objects with one bbox
  "shape2D" per frame on their camera (a nested num "score" where the box has one).

Reading accepts any schema-valid file: cuboids in any coordinate system connected to the root
(resolved through per-frame transforms, either direction, else static poses), the 10-value
quaternion and the 9-value Euler cuboid forms, timestamps as numbers or strings of seconds.
Every file read is checked against the official schema shipped in kognic-openlabel; exports are
valid by construction, and the tests check them against that schema and kognic's pydantic model.
"""

from __future__ import annotations

import json
from pathlib import Path

from labelpilot.formats.errors import FormatError
from labelpilot.formats.openlabel_export import build_document, choose_layer
from labelpilot.formats.openlabel_import import scene_from_document
from labelpilot.formats.openlabel_schema import load_document
from labelpilot.formats.staging import staged_file
from labelpilot.scenes import Scene

__all__ = ["read", "write"]


def _target(scene: Scene, out: Path) -> Path:
    if out.suffix.lower() == ".json" and not out.is_dir():
        return out
    if not scene.name or Path(scene.name).name != scene.name:
        raise ValueError(f"scene name {scene.name!r} cannot be a file name; give the output .json path")
    return out / f"{scene.name}.json"


def write(scene: Scene, out: Path, layer: str | None = None) -> list[Path]:
    """Write ``scene`` with one layer (default: ground_truth, else work, else the only one) as OpenLABEL.

    ``out`` is the .json file to write, or a directory that receives ``<scene name>.json``.
    The file appears whole or not at all.
    """
    if not scene.frames:
        raise ValueError(f"scene {scene.name} has no frames; an OpenLABEL scene needs at least one")
    target = _target(scene, Path(out))
    # Valid by construction (the tests check exports against the official schema and kognic's
    # model); allow_nan=False refuses any NaN that slipped past the attribute checks.
    document = build_document(scene, choose_layer(scene, layer))
    text = json.dumps(document, allow_nan=False, separators=(",", ":"))
    with staged_file(target) as staging:
        staging.write_text(text, encoding="utf-8")
    return [target]


def _source_file(path: Path, sequence: str | None) -> Path:
    if not path.is_dir():
        if sequence is not None and path.stem != sequence:
            raise FormatError(path, f"asked for sequence {sequence!r} but the file is {path.name}")
        return path
    if sequence is not None:
        candidate = path / f"{sequence}.json"
        if not candidate.is_file():
            known = ", ".join(sorted(p.stem for p in path.glob("*.json"))) or "none"
            raise FormatError(path, f"no {candidate.name} here (sequences: {known})")
        return candidate
    found = sorted(path.glob("*.json"))
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise FormatError(path, f"expected exactly one .json file, found {names}; name the sequence")
    return found[0]


def read(path: Path, sequence: str | None = None) -> Scene:
    """Read one OpenLABEL file (``path`` itself, or ``<path>/<sequence>.json``, or a directory's only .json)."""
    source = _source_file(Path(path), sequence)
    return scene_from_document(load_document(source), source)
