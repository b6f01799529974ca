"""Lidar sweep blobs: read any supported encoding into (N, 4) float32 x, y, z, intensity; write some.

Encodings (``BlobRef.encoding``):
- ``pcd``: a PCD file (see ``labelpilot.formats.pcd``).
- ``kitti-bin``: KITTI velodyne ``.bin``, little-endian float32 records x, y, z, intensity.
- ``av2-feather``: an Argoverse 2 lidar feather (x, y, z float16, intensity uint8, plus columns not read).
- ``npy``: a NumPy ``.npy`` array, N x 4 (or N x 3: intensity taken as 0).
- ``cm-npz``: centimetre deltas in a compressed ``.npz`` (see ``labelpilot.formats.compact_sweeps``).

A blob's url is a local path (optionally ``file://``); remote URLs arrive later through
``local_path``, the one place that turns a url into something to open.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
from numpy.typing import NDArray

from labelpilot.formats.compact_sweeps import decode_cm_npz, encode_cm_npz
from labelpilot.formats.errors import FormatError
from labelpilot.formats.pcd import read_pcd, write_pcd
from labelpilot.formats.staging import staged_file
from labelpilot.scenes import BlobRef

PointArray = NDArray[np.float32]

WRITABLE_ENCODINGS = ("kitti-bin", "npy", "pcd", "cm-npz")
AV2_COLUMNS = ("x", "y", "z", "intensity")


def local_path(url: str) -> Path:
    """The local file a blob url names (plain paths and ``file://`` urls)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:  # one letter: a Windows drive, not a scheme
        raise ValueError(f"cannot read {url!r}: only local files are supported so far")
    return Path(url)


def read_kitti_bin(path: Path) -> PointArray:
    raw = path.read_bytes()
    if len(raw) % 16:
        raise FormatError(
            path, f"{len(raw)} bytes is not a whole number of 16-byte x,y,z,intensity float32 records"
        )
    return np.frombuffer(raw, dtype="<f4").reshape(-1, 4).astype(np.float32)


def read_av2_feather(path: Path) -> PointArray:
    try:
        table = feather.read_table(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise FormatError(path, f"not a feather file: {err}") from None
    out = np.zeros((table.num_rows, 4), dtype=np.float32)
    for i, name in enumerate(AV2_COLUMNS):
        if name in table.column_names:
            out[:, i] = table.column(name).to_numpy()
        elif name != "intensity":
            raise FormatError(path, f"an Argoverse 2 sweep needs a {name!r} column", field=name)
    return out


def read_npy(path: Path) -> PointArray:
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as err:
        raise FormatError(path, f"not a NumPy .npy array: {err}") from None
    if array.ndim != 2 or array.shape[1] not in (3, 4):
        raise FormatError(path, f"a sweep array must be N x 3 or N x 4, got shape {array.shape}")
    out = np.zeros((len(array), 4), dtype=np.float32)
    out[:, : array.shape[1]] = array
    return out


def read_sweep(ref: BlobRef) -> PointArray:
    """The sweep ``ref`` points to, as (N, 4) float32 x, y, z, intensity in the lidar frame."""
    path = local_path(ref.url)
    if ref.encoding == "pcd":
        return read_pcd(path)
    if ref.encoding == "kitti-bin":
        return read_kitti_bin(path)
    if ref.encoding == "av2-feather":
        return read_av2_feather(path)
    if ref.encoding == "npy":
        return read_npy(path)
    if ref.encoding == "cm-npz":
        return decode_cm_npz(path)
    raise ValueError(
        f"unknown sweep encoding {ref.encoding!r} (known: pcd, kitti-bin, av2-feather, npy, cm-npz)"
    )


def write_sweep(points: NDArray[np.floating], path: Path, encoding: str) -> BlobRef:
    """Write (N, 4) x, y, z, intensity to ``path`` in ``encoding`` (all-or-nothing); return its BlobRef."""
    array = np.asarray(points)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"points must be N x 4 (x, y, z, intensity), got shape {array.shape}")
    path = Path(path)
    data = np.ascontiguousarray(array, dtype="<f4")
    if encoding == "pcd":
        write_pcd(path, data)
    elif encoding == "kitti-bin":
        with staged_file(path) as tmp:
            tmp.write_bytes(data.tobytes())
    elif encoding == "npy":
        with staged_file(path) as tmp, tmp.open("wb") as f:
            np.save(f, data, allow_pickle=False)
    elif encoding == "cm-npz":
        encode_cm_npz(data, path)
    else:
        raise ValueError(
            f"cannot write sweep encoding {encoding!r} (writable: {', '.join(WRITABLE_ENCODINGS)})"
        )
    return BlobRef(str(path), encoding)
