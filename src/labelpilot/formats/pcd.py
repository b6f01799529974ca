"""PCD point clouds (PCL's format): read any PCD with x, y, z (+ intensity) into N x 4 float32, write one.

Why the header is parsed here and not by pypcd4: pypcd4 1.5 validates COUNT as a positive integer and
rejects real files that declare zero-width padding fields (SUSTechPOINTS writes
``FIELDS x y z _ intensity _ ...`` with ``COUNT ... 0 ...``), and a short binary file that ends on a
record boundary comes back from it with fewer points and no error. So ascii and binary data are decoded with a NumPy structured
dtype built from the header's own field offsets (which also skips padding and tolerates trailing bytes
after the last record, as in SUSTechPOINTS' clouds). ``binary_compressed`` (LZF, column-major) is left
to pypcd4, which implements it, after the header and sizes have been checked here. Writing uses pypcd4.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pypcd4.pypcd4 import Encoding, PointCloud

from labelpilot.formats.errors import FormatError
from labelpilot.formats.staging import staged_file

PointArray = NDArray[np.float32]

INTENSITY_FIELD_NAMES = ("intensity", "i", "reflectance")
"""Names under which PCD writers store lidar intensity; the first present is used."""

_NUMPY_TYPES: dict[tuple[str, int], str] = {
    ("F", 4): "<f4",
    ("F", 8): "<f8",
    ("U", 1): "u1",
    ("U", 2): "<u2",
    ("U", 4): "<u4",
    ("U", 8): "<u8",
    ("I", 1): "i1",
    ("I", 2): "<i2",
    ("I", 4): "<i4",
    ("I", 8): "<i8",
}
_DATA_ENCODINGS = ("ascii", "binary", "binary_compressed")
_MAX_HEADER_LINES = 64
_HEADER_READ_BYTES = 65536  # far more than any real PCD header


@dataclass(frozen=True)
class PcdHeader:
    """The parsed header of a PCD file; ``data_offset`` is where the point data starts in the file."""

    fields: tuple[str, ...]
    sizes: tuple[int, ...]
    types: tuple[str, ...]
    counts: tuple[int, ...]
    width: int
    height: int
    points: int
    data: str
    data_offset: int

    @property
    def record_size(self) -> int:
        """Bytes per point in binary data (padding fields included)."""
        return sum(s * c for s, c in zip(self.sizes, self.counts, strict=True))

    def byte_offset(self, name: str) -> int:
        """Offset of field ``name`` inside one binary record."""
        i = self.fields.index(name)
        return sum(s * c for s, c in zip(self.sizes[:i], self.counts[:i], strict=True))

    def value_offset(self, name: str) -> int:
        """Column of field ``name``'s first value in an ascii data line."""
        return sum(self.counts[: self.fields.index(name)])

    def numpy_type(self, name: str) -> str:
        i = self.fields.index(name)
        return _NUMPY_TYPES[(self.types[i], self.sizes[i])]

    @property
    def intensity_field(self) -> str | None:
        return next((n for n in INTENSITY_FIELD_NAMES if n in self.fields), None)


def _header_int(path: Path, values: dict[str, list[str]], key: str, default: int | None = None) -> int:
    if key not in values:
        if default is None:
            raise FormatError(path, "missing from the PCD header", field=key)
        return default
    parts = values[key]
    try:
        number = int(parts[0]) if len(parts) == 1 else -1
    except ValueError:
        number = -1
    if number < 0:
        raise FormatError(path, f"must be one non-negative integer, got {' '.join(parts)!r}", field=key)
    return number


def _header_ints(path: Path, values: dict[str, list[str]], key: str, n: int) -> tuple[int, ...]:
    parts = values[key] if key in values else ["1"] * n  # COUNT may be omitted: one value per field
    try:
        numbers = tuple(int(p) for p in parts)
    except ValueError:
        raise FormatError(path, f"must be integers, got {' '.join(parts)!r}", field=key) from None
    if len(numbers) != n or any(v < 0 for v in numbers):
        raise FormatError(path, f"needs {n} non-negative integers (one per field), got {parts}", field=key)
    return numbers


def read_pcd_header(path: Path, raw: bytes | None = None) -> PcdHeader:
    """Parse and check the header of the PCD file at ``path`` (``raw``: its first bytes, if already read)."""
    if raw is None:
        with Path(path).open("rb") as f:
            raw = f.read(_HEADER_READ_BYTES)
    data = raw
    values: dict[str, list[str]] = {}
    pos = 0
    for _ in range(_MAX_HEADER_LINES):
        end = data.find(b"\n", pos)
        if end < 0:
            break
        try:
            line = data[pos:end].decode("ascii").strip()
        except UnicodeDecodeError:
            raise FormatError(path, "the PCD header is not ASCII text (not a PCD file?)") from None
        pos = end + 1
        if not line or line.startswith("#"):
            continue
        key, *rest = line.split()
        values[key.upper()] = rest
        if key.upper() == "DATA":
            break
    if "DATA" not in values:
        raise FormatError(path, "no DATA line in the PCD header (not a PCD file, or truncated)", field="DATA")

    if "FIELDS" not in values or not values["FIELDS"]:
        raise FormatError(path, "missing from the PCD header", field="FIELDS")
    fields = tuple(values["FIELDS"])
    n = len(fields)
    for required in ("SIZE", "TYPE"):
        if required not in values:
            raise FormatError(path, "missing from the PCD header", field=required)
    sizes = _header_ints(path, values, "SIZE", n)
    counts = _header_ints(path, values, "COUNT", n)
    types = tuple(t.upper() for t in values["TYPE"])
    if len(types) != n:
        raise FormatError(path, f"needs {n} entries (one per field), got {values['TYPE']}", field="TYPE")
    for name in ("x", "y", "z"):
        if name not in fields:
            raise FormatError(path, f"has no {name!r} field: {' '.join(fields)}", field="FIELDS")
    width = _header_int(path, values, "WIDTH")
    height = _header_int(path, values, "HEIGHT", default=1)
    points = _header_int(path, values, "POINTS", default=width * height)
    if points != width * height:
        raise FormatError(path, f"{points} points but WIDTH*HEIGHT = {width * height}", field="POINTS")
    encoding = values["DATA"][0].lower() if values["DATA"] else ""
    if encoding not in _DATA_ENCODINGS:
        raise FormatError(path, f"unknown data encoding {encoding!r}", field="DATA")

    header = PcdHeader(fields, sizes, types, counts, width, height, points, encoding, pos)
    for name in _columns(header):
        i = fields.index(name)
        if (types[i], sizes[i]) not in _NUMPY_TYPES:
            raise FormatError(
                path, f"field {name!r} has an unknown TYPE/SIZE {types[i]}{sizes[i]}", field="TYPE"
            )
        if counts[i] < 1:
            raise FormatError(path, f"field {name!r} has COUNT 0", field="COUNT")
    return header


def _columns(header: PcdHeader) -> list[str]:
    names = ["x", "y", "z"]
    if header.intensity_field is not None:
        names.append(header.intensity_field)
    return names


def _to_xyzi(columns: list[NDArray[np.generic]], n: int) -> PointArray:
    out = np.zeros((n, 4), dtype=np.float32)
    for i, column in enumerate(columns):
        out[:, i] = column
    return out


def _check_data_size(path: Path, header: PcdHeader, file_size: int, size_words: bytes) -> None:
    """Check that the data the header announces is all there (``size_words``: the bytes after the header)."""
    if header.data == "binary":
        needed = header.points * header.record_size
        available = file_size - header.data_offset
        if available < needed:
            raise FormatError(
                path,
                f"{header.points} points of {header.record_size} bytes need {needed} bytes of data, "
                f"the file has {available} (truncated?)",
                field="POINTS",
            )
    elif header.data == "binary_compressed" and header.points > 0:
        if len(size_words) < 8:
            raise FormatError(path, "binary_compressed data ends before its size words", field="DATA")
        compressed, uncompressed = struct.unpack("<II", size_words[:8])
        if uncompressed != header.points * header.record_size:
            raise FormatError(
                path,
                f"uncompressed size {uncompressed} != {header.points} points x {header.record_size} bytes",
                field="POINTS",
            )
        if file_size < header.data_offset + 8 + compressed:
            raise FormatError(
                path, f"compressed data of {compressed} bytes is cut short (truncated?)", field="DATA"
            )


def check_pcd(path: Path) -> PcdHeader:
    """Check a PCD's header and data size without reading its points (ascii data is not checked)."""
    path = Path(path)
    with path.open("rb") as f:
        prefix = f.read(_HEADER_READ_BYTES)
    header = read_pcd_header(path, prefix)
    _check_data_size(path, header, path.stat().st_size, prefix[header.data_offset : header.data_offset + 8])
    return header


def _decode_binary(header: PcdHeader, raw: bytes) -> PointArray:
    names = _columns(header)
    record = np.dtype(
        {
            "names": names,
            "formats": [header.numpy_type(n) for n in names],
            "offsets": [header.byte_offset(n) for n in names],
            "itemsize": header.record_size,
        }
    )
    # Bytes after the last record (SUSTechPOINTS has some) are not points; count= stops before them.
    records = np.frombuffer(raw, dtype=record, count=header.points, offset=header.data_offset)
    return _to_xyzi([records[n] for n in names], header.points)


def _decode_ascii(path: Path, header: PcdHeader, raw: bytes) -> PointArray:
    tokens = raw[header.data_offset :].split()
    per_point = sum(header.counts)
    if len(tokens) != header.points * per_point:
        raise FormatError(
            path,
            f"{header.points} points of {per_point} values need {header.points * per_point} numbers, "
            f"the data has {len(tokens)}",
            field="POINTS",
        )
    try:
        table = np.array(tokens, dtype=np.float64).reshape(header.points, per_point)
    except ValueError as err:
        raise FormatError(path, f"ascii data holds a non-number: {err}", field="DATA") from None
    return _to_xyzi([table[:, header.value_offset(n)] for n in _columns(header)], header.points)


def _decode_compressed(path: Path, header: PcdHeader) -> PointArray:
    if 0 in header.counts:
        raise FormatError(path, "binary_compressed with COUNT 0 fields is not supported", field="COUNT")
    try:
        cloud = PointCloud.from_path(path)
    except (ValueError, RuntimeError, TypeError) as err:
        raise FormatError(path, f"cannot decompress: {err}", field="DATA") from None
    data = cloud.pc_data
    return _to_xyzi([data[n] for n in _columns(header)], header.points)


def read_pcd(path: Path) -> PointArray:
    """The cloud at ``path`` as (N, 4) float32 x, y, z, intensity (0 where the file has none).

    N is the header's POINTS (= WIDTH * HEIGHT); invalid points (NaN in organised clouds) are kept.
    """
    path = Path(path)
    raw = path.read_bytes()
    header = read_pcd_header(path, raw)
    if header.points == 0:
        return np.zeros((0, 4), dtype=np.float32)
    _check_data_size(path, header, len(raw), raw[header.data_offset : header.data_offset + 8])
    if header.data == "binary":
        return _decode_binary(header, raw)
    if header.data == "ascii":
        return _decode_ascii(path, header, raw)
    return _decode_compressed(path, header)


def write_pcd(path: Path, points: NDArray[np.floating], *, compressed: bool = False) -> Path:
    """Write (N, 4) x, y, z, intensity as a binary PCD (float32 fields x y z intensity), all-or-nothing."""
    array = np.asarray(points)
    if array.ndim != 2 or array.shape[1] != 4:
        raise ValueError(f"points must be N x 4 (x, y, z, intensity), got shape {array.shape}")
    cloud = PointCloud.from_xyzi_points(np.ascontiguousarray(array, dtype=np.float32))
    encoding = Encoding.BINARY_COMPRESSED if compressed else Encoding.BINARY
    path = Path(path)
    with staged_file(path) as tmp:
        cloud.save(tmp, encoding=encoding)
    return path
