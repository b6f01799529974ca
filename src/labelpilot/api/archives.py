"""Unpacking uploaded datasets safely: no member may land outside the target folder."""

from __future__ import annotations

import re
import shutil
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

from labelpilot.services.errors import InvalidError

MAX_MEMBERS = 100_000


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


def _extract_zip(upload: Path, display: str, target: Path) -> None:
    with zipfile.ZipFile(upload) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise InvalidError(f"{display}: more than {MAX_MEMBERS} files", field="archive")
        for member in members:
            relative = _safe_member(member.filename, display)
            if member.is_dir():
                continue
            dest = target.joinpath(*relative.parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, dest.open("wb") as out:
                shutil.copyfileobj(src, out)


def _extract_tar(upload: Path, display: str, target: Path) -> None:
    with tarfile.open(upload) as archive:
        members = archive.getmembers()
        if len(members) > MAX_MEMBERS:
            raise InvalidError(f"{display}: more than {MAX_MEMBERS} files", field="archive")
        for member in members:
            _safe_member(member.name, display)
            if member.issym() or member.islnk() or member.isdev():
                raise InvalidError(f"{display}: member {member.name!r} is a link or device", field="archive")
        archive.extractall(target, filter="data")


def extract_archive(upload: Path, original_name: str, target: Path) -> Path:
    """The folder (or single file) to import from an uploaded .zip, .tar, .tar.gz or plain file."""
    target.mkdir(parents=True)
    display = _safe_file_name(original_name)
    if zipfile.is_zipfile(upload):
        _extract_zip(upload, display, target)
        return _single_root(target)
    if tarfile.is_tarfile(upload):
        _extract_tar(upload, display, target)
        return _single_root(target)
    # a single file (an OpenLABEL JSON, a MOT text file) keeps its name
    dest = target / display
    shutil.move(upload, dest)
    return dest
