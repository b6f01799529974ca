"""The local baselines of the frame endpoint: reading a sweep from disk without any server.

- the source file: the original PCD of ../shared/data/kitti-odometry-00/clouds when every frame's
  is there, else the bundled cm-npz of the demo drive; read as bytes, and decoded to points;
- the stored blob: the float32 file the import wrote, read as bytes (what the endpoint sends).

Times are per frame: the median over ``rounds`` passes of one pass over all frames, divided by the
number of frames (after a warm-up pass, so the files are in the page cache, as the server's are).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench_core import median_ms
from labelpilot.formats import read_scene
from labelpilot.formats.pcd import read_pcd
from labelpilot.formats.sweeps import local_path, read_sweep
from labelpilot.scenes import BlobRef
from labelpilot.services.scene_access import lidar_key
from server_setup import ODOMETRY_DIR


def _source_refs(data_dir: Path) -> list[BlobRef]:
    scene = read_scene("kitti-odometry", data_dir / ODOMETRY_DIR)
    refs = [frame.lidar for frame in scene.frames]
    if any(ref is None for ref in refs):
        raise RuntimeError("a frame of the odometry demo drive has no sweep")
    return [ref for ref in refs if ref is not None]


def _per_frame_ms(paths: list[Path], read: Callable[[Path], object], rounds: int) -> float:
    return median_ms(lambda: [read(p) for p in paths], rounds) / len(paths)


def local_reads(
    data_dir: Path, shared_clouds: Path, blob_root: Path, scene_id: int, frames: int, rounds: int
) -> dict[str, Any]:
    refs = _source_refs(data_dir)[:frames]
    bundled = [local_path(ref.url) for ref in refs]
    originals = [shared_clouds / f"{p.stem}.pcd" for p in bundled]
    decode: Callable[[Path], np.ndarray]
    if all(p.is_file() for p in originals):
        sources, kind, decode = originals, "pcd (original, ../shared/data)", read_pcd
    else:
        encodings = {local_path(ref.url): ref.encoding for ref in refs}
        sources, kind = bundled, "cm-npz (bundled demo)"

        def decode(path: Path) -> np.ndarray:
            return read_sweep(BlobRef(str(path), encodings[path]))

    blobs = [blob_root / lidar_key(scene_id, index) for index in range(frames)]
    return {
        "source": kind,
        "source_bytes": statistics.fmean(p.stat().st_size for p in sources),
        "source_points": statistics.fmean(len(decode(p)) for p in sources),
        "source_read_bytes_ms": _per_frame_ms(sources, Path.read_bytes, rounds),
        "source_decode_ms": _per_frame_ms(sources, decode, rounds),
        "blob_bytes": statistics.fmean(p.stat().st_size for p in blobs),
        "blob_read_ms": _per_frame_ms(blobs, Path.read_bytes, rounds),
    }
