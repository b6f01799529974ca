"""Checked access to Argoverse 2 feather tables.

Every AV2 file is an Arrow (feather v2) table. The importer reads columns through
``FeatherTable`` so that a missing column, a wrong type, a null or a NaN becomes a
``FormatError`` naming the file, the column and the first bad row, before anything is built.
Rows are numbered from 0, as pyarrow and pandas show them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather
from numpy.typing import NDArray

from labelpilot.formats.errors import FormatError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _first_true(mask: NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


@dataclass(frozen=True)
class FeatherTable:
    """One feather file's table, with column getters that validate as they convert."""

    path: Path
    table: Any  # pyarrow.Table; pyarrow ships no type information

    @classmethod
    def read(cls, path: Path, required: Sequence[str]) -> FeatherTable:
        """Read ``path`` and check that every ``required`` column is there."""
        try:
            table = feather.read_table(path, memory_map=False)
        except FileNotFoundError:
            raise FormatError(path, "file not found") from None
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise FormatError(path, f"not a readable feather (Arrow) file: {exc}") from None
        missing = [name for name in required if name not in table.column_names]
        if missing:
            raise FormatError(
                path,
                f"missing required column(s) {', '.join(missing)}; columns are {', '.join(table.column_names)}",
                field=missing[0],
            )
        return cls(path, table)

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def has(self, name: str) -> bool:
        return name in self.table.column_names

    def _column(self, name: str) -> Any:
        if not self.has(name):
            raise FormatError(self.path, "missing required column", field=name)
        column = self.table.column(name)
        if column.null_count:
            row = _first_true(np.asarray(pc.is_null(column).to_numpy(zero_copy_only=False)))
            raise FormatError(self.path, f"row {row} is empty (null)", field=name)
        return column

    def floats(self, name: str) -> FloatArray:
        """A numeric column as float64; NaN and infinity are errors."""
        column = self._column(name)
        if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
            raise FormatError(self.path, f"expected numbers, found {column.type}", field=name)
        values = np.asarray(column.cast(pa.float64()).to_numpy(), dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            row = _first_true(bad)
            raise FormatError(self.path, f"row {row} is {values[row]} (must be a finite number)", field=name)
        return values

    def ints(self, name: str) -> IntArray:
        """An integer column as int64 (timestamps, counts)."""
        column = self._column(name)
        if not pa.types.is_integer(column.type):
            raise FormatError(self.path, f"expected integers, found {column.type}", field=name)
        return np.asarray(column.cast(pa.int64()).to_numpy(), dtype=np.int64)

    def strings(self, name: str) -> list[str]:
        """A string column (names, ids, categories); empty strings are errors."""
        column = self._column(name)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            raise FormatError(self.path, f"expected text, found {column.type}", field=name)
        values = [str(v) for v in column.to_pylist()]
        empty = [i for i, v in enumerate(values) if not v.strip()]
        if empty:
            raise FormatError(self.path, f"row {empty[0]} is an empty string", field=name)
        return values

    def ids(self, name: str) -> list[str]:
        """An identifier column that may hold integers or text, as text."""
        column = self._column(name)
        if pa.types.is_integer(column.type):
            return [str(v) for v in self.ints(name).tolist()]
        return self.strings(name)

    def positive(self, name: str) -> FloatArray:
        """A float column whose values must be > 0 (box sizes, focal lengths)."""
        values = self.floats(name)
        bad = values <= 0
        if bad.any():
            row = _first_true(bad)
            raise FormatError(self.path, f"row {row} is {values[row]} (must be positive)", field=name)
        return values

    def unit_quaternions_xyzw(self, prefix: str = "") -> FloatArray:
        """(N, 4) quaternions from AV2's qw, qx, qy, qz columns, reordered to x, y, z, w.

        AV2 writes unit quaternions; a norm far from 1 means a corrupted row, not a scale.
        """
        quats = np.stack([self.floats(f"{prefix}q{axis}") for axis in "xyzw"], axis=1)
        norms = np.linalg.norm(quats, axis=1)
        bad = np.abs(norms - 1.0) > 1e-3
        if bad.any():
            row = _first_true(bad)
            raise FormatError(
                self.path, f"row {row}: quaternion norm {norms[row]:.6g} is not 1", field=f"{prefix}qw"
            )
        normalized: FloatArray = quats / norms[:, None]
        return normalized

    def vectors(self, names: Sequence[str]) -> FloatArray:
        """(N, len(names)) float columns side by side, e.g. tx_m, ty_m, tz_m."""
        return np.stack([self.floats(n) for n in names], axis=1)
