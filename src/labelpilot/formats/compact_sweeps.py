"""``cm-npz``: a compact sweep encoding for bundling real sweeps in a lean repository.

Coordinates are rounded to whole centimetres (at most 5 mm off; a Velodyne HDL-64 measures to about
2 cm) and stored as int16 differences between consecutive points in scan order, which zlib then
squeezes about 7x below float32 PCD. Intensity, when present, is kept as float32.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from labelpilot.formats.errors import FormatError
from labelpilot.formats.staging import staged_file

PointArray = NDArray[np.float32]
RANGE_M = 327.0
"""int16 centimetres reach +-327.67 m."""


def encode_cm_npz(points: NDArray[np.floating], path: Path) -> None:
    xyz = np.asarray(points, dtype=np.float64)[:, :3]
    if len(xyz) and np.abs(xyz).max() >= RANGE_M:
        raise ValueError(f"cm-npz holds coordinates within +-{RANGE_M} m; got {np.abs(xyz).max():.1f} m")
    cm = np.round(xyz * 100.0).astype(np.int32)
    deltas = np.diff(cm, axis=0, prepend=np.zeros((1, 3), dtype=np.int32))
    if len(deltas) and np.abs(deltas).max() > np.iinfo(np.int16).max:
        # a jump beyond int16 between neighbours: store absolute centimetres instead
        arrays = {"absolute_cm": cm.astype(np.int16)}
    else:
        arrays = {"delta_cm": deltas.astype(np.int16)}
    intensity = np.asarray(points)[:, 3] if np.asarray(points).shape[1] > 3 else None
    if intensity is not None and np.any(intensity):
        arrays["intensity"] = intensity.astype(np.float32)
    with staged_file(path) as tmp, tmp.open("wb") as handle:
        np.savez_compressed(handle, **arrays)  # type: ignore[arg-type]


def decode_cm_npz(path: Path) -> PointArray:
    try:
        with path.open("rb") as handle, np.load(handle, allow_pickle=False) as data:
            if "delta_cm" in data:
                cm = np.cumsum(data["delta_cm"].astype(np.int32), axis=0)
            elif "absolute_cm" in data:
                cm = data["absolute_cm"].astype(np.int32)
            else:
                raise FormatError(
                    path, "a cm-npz sweep needs a 'delta_cm' or 'absolute_cm' array", field="delta_cm"
                )
            intensity = data.get("intensity", None)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as err:
        raise FormatError(path, f"not a cm-npz sweep: {err}") from None
    if cm.ndim != 2 or cm.shape[1] != 3:
        raise FormatError(path, f"coordinates must be N x 3, got shape {cm.shape}", field="delta_cm")
    out = np.zeros((len(cm), 4), dtype=np.float32)
    out[:, :3] = cm / 100.0
    if intensity is not None:
        if intensity.shape != (len(cm),):
            raise FormatError(
                path, f"intensity has shape {intensity.shape}, expected ({len(cm)},)", field="intensity"
            )
        out[:, 3] = intensity
    return out
