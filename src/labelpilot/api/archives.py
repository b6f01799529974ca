"""Unpacking uploaded datasets safely: no member may land outside the target folder, links are refused,
and a small archive may not unpack to more than a set number of bytes (zip bombs).

Errors are InvalidError with ``field="archive"``; messages name members as they are in the archive,
never the server's folders (``client_view`` rewrites import errors the same way).
"""

from __future__ import annotations

import errno
import lzma
import re
import shutil
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO

from labelpilot.services.errors import InvalidError

MAX_MEMBERS = 100_000
MAX_UNPACK_RATIO = 16
"""An upload may unpack to this many times the upload limit (text labels deflate about tenfold)."""
COPY_CHUNK = 1 << 20
DAMAGED = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, tarfile.TarError, NotImplementedError)
"""What the zip and tar readers raise for a damaged archive or one in a method they do not support."""
CLIENT_OS_ERRORS = frozenset(
    {errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.EINVAL, errno.EILSEQ}
)
"""Errors writing a member that come from the archive's names (a file and a folder of one name, ...).
Decompressors raise OSError without an errno for damaged data (gzip, bz2); an OSError with any other
errno (a full disk) is the server's problem and stays a 500."""


def _safe_member(name: str, archive_name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise InvalidError(
            f"{archive_name}: member {name!r} would be written outside the upload", field="archive"
        )
    return path


def _safe_file_name(original_name: str) -> str:
    """The upload's base name reduced to harmless characters (it names a file we write)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", PurePosixPath(original_name.replace("\\", "/")).name)
    return name if name.strip(".") else "upload"


def _single_root(target: Path) -> Path:
    """An archive of one folder imports that folder."""
    entries = [p for p in target.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX"]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else target


def _too_big(display: str, max_bytes: int) -> InvalidError:
    return InvalidError(f"{display}: unpacks to more than {max_bytes} bytes", field="archive")


def _copy_limited(src: IO[bytes], out: IO[bytes], budget: int, display: str, max_bytes: int) -> int:
    """Copy at most ``budget`` bytes; the bytes copied. Counts what is really read, not what headers say."""
    copied = 0
    while chunk := src.read(COPY_CHUNK):
        copied += len(chunk)
        if copied > budget:
            raise _too_big(display, max_bytes)
        out.write(chunk)
    return copied


def _extract_zip(upload: Path, display: str, target: Path, max_bytes: int) -> None:
    with zipfile.ZipFile(upload) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise InvalidError(f"{display}: more than {MAX_MEMBERS} files", field="archive")
        for member in members:
            _safe_member(member.filename, display)
            if member.flag_bits & 0x1:
                raise InvalidError(f"{display}: member {member.filename!r} is encrypted", field="archive")
        remaining = max_bytes
        for member in members:
            relative = _safe_member(member.filename, display)
            if member.is_dir() or not relative.parts:
                continue
            dest = target.joinpath(*relative.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, dest.open("wb") as out:
                remaining -= _copy_limited(src, out, remaining, display, max_bytes)


def _extract_tar(upload: Path, display: str, target: Path, max_bytes: int) -> None:
    with tarfile.open(upload) as archive:
        members = archive.getmembers()
        if len(members) > MAX_MEMBERS:
            raise InvalidError(f"{display}: more than {MAX_MEMBERS} files", field="archive")
        for member in members:
            _safe_member(member.name, display)
            if member.issym() or member.islnk() or member.isdev():
                raise InvalidError(f"{display}: member {member.name!r} is a link or device", field="archive")
        # A tar member's data is exactly its header's size, so the sum bounds what extraction writes.
        if sum(m.size for m in members if m.isfile()) > max_bytes:
            raise _too_big(display, max_bytes)
        archive.extractall(target, filter="data")


def extract_archive(upload: Path, original_name: str, target: Path, max_bytes: int) -> Path:
    """The folder (or single file) to import from an uploaded .zip, .tar, .tar.gz or plain file.

    ``max_bytes`` bounds what an archive may unpack to. A damaged archive, a member outside the
    target, a link or an archive over the bound raises InvalidError (``field="archive"``).
    """
    target.mkdir(parents=True)
    display = _safe_file_name(original_name)
    try:
        if zipfile.is_zipfile(upload):
            _extract_zip(upload, display, target, max_bytes)
            return _single_root(target)
        if tarfile.is_tarfile(upload):
            _extract_tar(upload, display, target, max_bytes)
            return _single_root(target)
    except DAMAGED as err:
        raise InvalidError(f"{display}: damaged or unsupported archive: {err}", field="archive") from err
    except OSError as err:
        if err.errno is not None and err.errno not in CLIENT_OS_ERRORS:
            raise
        raise InvalidError(f"{display}: cannot unpack: {err.strerror or err}", field="archive") from err
    # a single file (an OpenLABEL JSON, a MOT text file) keeps its name
    dest = target / display
    shutil.move(upload, dest)
    return dest


def client_view(error: InvalidError, unpacked: Path) -> InvalidError:
    """The import error with the server's unpack folder taken out of its message and field, so that it
    names the file as it is in the client's archive (and does not tell the client where we unpack)."""
    message, field = error.message, error.field
    for folder in dict.fromkeys([str(unpacked.resolve()), str(unpacked)]):
        message = message.replace(folder + "/", "").replace(folder, ".")
        if field is not None:
            field = field.replace(folder + "/", "").replace(folder, ".")
    return InvalidError(message, field=field)
