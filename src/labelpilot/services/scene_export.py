"""Export a stored scene (one layer, or the format's default) to any format LabelPilot writes.

Writers that copy payloads (e.g. SUSTechPOINTS writes every sweep as PCD) read them through the
frames' BlobRefs. A stored sweep is little-endian float32 x, y, z, intensity rows, byte for byte the
KITTI ``.bin`` layout, so it is handed over as a ``kitti-bin`` BlobRef:
- with a local blob store, the BlobRefs name the stored files in place (nothing is copied, and a
  format that records payload URIs, like OpenLABEL, records where the payloads really are);
- with a remote store (``s3://`` ...), the payloads are first materialised into a temporary
  directory that lives for the duration of the export.
Tracks are written under their source ids (the keys they were imported with) where those are unique.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session

from labelpilot.formats import FormatError, format_info, write_scene
from labelpilot.scenes import BlobRef, Scene
from labelpilot.services.actors import STAFF, Actor, require_role
from labelpilot.services.errors import InvalidError
from labelpilot.services.events import record_event
from labelpilot.services.scene_access import visible_scene
from labelpilot.services.scene_load import scene_from_rows
from labelpilot.store.blobs import BlobStore, validate_key

SWEEP_FILE_ENCODING = "kitti-bin"


def _with_refs(scene: Scene, resolve: dict[str, Path]) -> Scene:
    """``scene`` with every payload BlobRef pointing at the file ``resolve`` gives for its key."""
    for frame in scene.frames:
        if frame.lidar is not None:
            frame.lidar = BlobRef(str(resolve[frame.lidar.url]), SWEEP_FILE_ENCODING)
        frame.images = {
            camera: BlobRef(str(resolve[ref.url]), ref.encoding) for camera, ref in frame.images.items()
        }
    return scene


def _payload_keys(scene: Scene) -> list[str]:
    keys: list[str] = []
    for frame in scene.frames:
        if frame.lidar is not None:
            keys.append(frame.lidar.url)
        keys += [ref.url for ref in frame.images.values()]
    return keys


@contextmanager
def readable_payloads(blobs: BlobStore, scene: Scene) -> Iterator[Scene]:
    """``scene`` (as loaded, payloads as blob keys) with payloads that format writers can open."""
    keys = _payload_keys(scene)
    root = blobs.local_root
    if root is not None:
        yield _with_refs(scene, {key: root / validate_key(key) for key in keys})
        return
    with tempfile.TemporaryDirectory(prefix="labelpilot-export-") as tmp:
        resolve: dict[str, Path] = {}
        for key in keys:
            target = Path(tmp) / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blobs.get(key))
            resolve[key] = target
        yield _with_refs(scene, resolve)


def export_scene(
    session: Session,
    blobs: BlobStore,
    actor: Actor,
    scene_id: int,
    format_name: str,
    layer: str | None,
    out: Path | str,
) -> list[Path]:
    """Write the scene (``layer``, or the format's default) to ``out``; the files written.

    Staff (reviewer, coach, manager) and administrators may export; the writer is all-or-nothing.
    """
    scene_row = visible_scene(session, actor, scene_id)
    require_role(session, actor, scene_row.project_id, STAFF)
    try:
        info = format_info(format_name)
    except ValueError as err:
        raise InvalidError(str(err), field="format") from err
    if not info.can_write:
        raise InvalidError(f"LabelPilot cannot write {format_name!r}", field="format")
    scene = scene_from_rows(session, scene_row, [layer] if layer is not None else None, track_ids="key")
    try:
        with readable_payloads(blobs, scene) as readable:
            written = write_scene(format_name, readable, Path(out), layer)
    except FormatError as err:
        raise InvalidError(str(err), field=err.path) from err
    except (ValueError, KeyError) as err:
        raise InvalidError(f"cannot export scene {scene_id} as {format_name}: {err}") from err
    record_event(
        session,
        actor,
        "scene_exported",
        project_id=scene_row.project_id,
        scene_id=scene_id,
        payload={"format": format_name, "layer": layer, "out": str(out), "files": len(written)},
    )
    return written
