"""Number parsing for KITTI's text files: every failure names the file, the line and the field."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from labelpilot.formats.errors import FormatError

FloatArray = NDArray[np.float64]


def parse_float(token: str, path: Path, line: int, field: str) -> float:
    """A finite float; NaN and inf are refused because no KITTI field can hold them."""
    try:
        value = float(token)
    except ValueError:
        raise FormatError(path, f"{token!r} is not a number", line=line, field=field) from None
    if not math.isfinite(value):
        raise FormatError(path, f"{token!r} is not a finite number", line=line, field=field)
    return value


def parse_int(token: str, path: Path, line: int, field: str) -> int:
    try:
        return int(token)
    except ValueError:
        raise FormatError(path, f"{token!r} is not an integer", line=line, field=field) from None


def parse_floats(tokens: Sequence[str], path: Path, line: int, field: str) -> FloatArray:
    return np.array([parse_float(t, path, line, field) for t in tokens], dtype=np.float64)


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, stripped text) of every non-blank line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormatError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise FormatError(path, f"not a text file ({exc.reason})") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped:
            yield number, stripped


def rotation_block(matrix: FloatArray, path: Path, line: int, field: str) -> FloatArray:
    """The nearest exact rotation to a 3x3 block that must be one.

    KITTI prints rotations to 7-10 digits, so they are orthonormal only to about 1e-7; Pose.inverse
    (a transpose) would then not quite invert them, and 400 m away that shows as 0.1 mm. A garbled
    digit breaks orthonormality far more and is refused.
    """
    error = float(np.abs(matrix.T @ matrix - np.eye(3)).max())
    if error > 1e-3 or float(np.linalg.det(matrix)) < 0.0:
        raise FormatError(
            path, f"the 3x3 block is not a rotation (|R^T R - I| = {error:.2e})", line=line, field=field
        )
    return np.asarray(Rotation.from_matrix(matrix).as_matrix(), dtype=np.float64)


def numbered_files(folder: Path, suffix: str) -> dict[int, Path]:
    """Files named by frame number (``000010.png``, ``7.pcd``) by number, absolute, in order."""
    if not folder.is_dir():
        return {}
    found = {int(p.stem): p.resolve() for p in folder.glob(f"*{suffix}") if p.stem.isdigit()}
    return dict(sorted(found.items()))
