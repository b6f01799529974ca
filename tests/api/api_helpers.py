"""Shared set-up for the HTTP tests: a team with bearer tokens, real sample data packed as uploads."""

from __future__ import annotations

import zipfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx2
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import accounts, projects
from labelpilot.services.actors import SYSTEM, Role
from labelpilot.store.blobs import BlobStore
from tests.conftest import SAMPLE

KITTI_ROOT = SAMPLE / "kitti-tracking"
TRACKER_LAYER = "auto:pointrcnn_Car_hailanyi"
"""Real tracker output in the KITTI sample: candidate tracks over many frames."""

MEMBERS: dict[str, Role] = {
    "meg": Role.MANAGER,
    "rita": Role.REVIEWER,
    "cora": Role.COACH,
    "ann": Role.ANNOTATOR,
    "abe": Role.ANNOTATOR,
}
ADMIN = "root"
"""An administrator who is not a member of the project (admins act by right, not by role)."""
OUTSIDER = "otto"
"""A user who is not a member of the project."""


def password_of(name: str) -> str:
    return f"{name}-password"


@dataclass(frozen=True)
class ApiTeam:
    project_id: int
    tokens: dict[str, str]
    """user name -> personal API token"""

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


def make_api_team(
    db_factory: sessionmaker[Session], *, passwords: Collection[str] = (), project_name: str = "streets"
) -> ApiTeam:
    """A project (created by the system) with one member of each role (two annotators), an admin who is
    not a member and an outsider; every user has a bearer token. The users named in ``passwords`` can
    log in too (scrypt costs tens of milliseconds a user, so only those who log in get one)."""
    tokens: dict[str, str] = {}
    with db_factory.begin() as s:
        project = projects.create_project(s, SYSTEM, project_name)
        for name in [ADMIN, *MEMBERS, OUTSIDER]:
            user = accounts.create_user(
                s, name, password_of(name) if name in passwords else None, is_admin=name == ADMIN
            )
            tokens[name] = accounts.create_api_token(s, user, "tests")
        for name, role in MEMBERS.items():
            projects.set_member(s, SYSTEM, project.id, name, role)
    return ApiTeam(project.id, tokens)


def blobs_of(app: FastAPI) -> BlobStore:
    blobs: BlobStore = app.state.labelpilot.blobs
    return blobs


def sequence_files(root: Path, sequence: str) -> list[Path]:
    """Every file of one KITTI tracking sequence: those named after it, and those in a folder named after it."""
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and (p.stem == sequence or sequence in p.relative_to(root).parts[:-1])
    )


def write_zip(
    out: Path,
    root: Path,
    files: list[Path],
    *,
    top: str,
    replace: Mapping[Path, bytes] | None = None,
) -> Path:
    """A zip of ``files`` (under ``root``) inside one folder ``top``, as a user would pack a dataset.

    ``replace`` gives other contents for some of the files (garbled copies)."""
    replace = replace or {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            name = f"{top}/{path.relative_to(root).as_posix()}"
            archive.writestr(name, replace[path] if path in replace else path.read_bytes())
    return out


def upload(
    client: TestClient,
    project_id: int,
    archive: Path,
    headers: Mapping[str, str],
    **fields: str,
) -> httpx2.Response:
    with archive.open("rb") as handle:
        return client.post(
            f"/api/projects/{project_id}/scenes/upload",
            files={"archive": (archive.name, handle, "application/octet-stream")},
            data=fields,
            headers=dict(headers),
        )


def blob_files(root: Path) -> list[Path]:
    """Every file under a local blob store root (partial files count too)."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
