"""Uploads that must be refused whole: malformed data, archives that reach outside, oversized bodies."""

from __future__ import annotations

import io
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.store.tables import EventRow, FrameRow, LayerRow, SceneRow, TrackRow
from tests.api.api_helpers import (
    KITTI_ROOT,
    ApiTeam,
    blob_files,
    make_api_team,
    sequence_files,
    upload,
    write_zip,
)
from tests.conftest import SAMPLE

LABEL_FILE = KITTI_ROOT / "training" / "label_02" / "0000.txt"
MOT_FILE = SAMPLE / "mot" / "TUD-Campus" / "gt.txt"


@pytest.fixture
def team(db_factory: sessionmaker[Session]) -> ApiTeam:
    return make_api_team(db_factory)


@pytest.fixture
def upload_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where the server unpacks uploads in these tests, so that what it leaves behind can be seen."""
    folder = tmp_path / "server-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder


def _nothing_imported(api_app: FastAPI, db_factory: sessionmaker[Session]) -> None:
    """No scene rows, no import event, and no blob of any scene."""
    with db_factory.begin() as s:
        for table in (SceneRow, FrameRow, LayerRow, TrackRow):
            assert s.scalar(select(func.count()).select_from(table)) == 0, table.__tablename__
        assert (
            s.scalar(select(func.count()).select_from(EventRow).where(EventRow.kind == "scene_imported")) == 0
        )
    assert blob_files(Path(api_app.state.labelpilot.settings.resolved_blob_root)) == []


def _garbled(line_number: int) -> bytes:
    lines = LABEL_FILE.read_text().splitlines(keepends=True)
    fields = lines[line_number - 1].split(" ")
    fields[13] = "not-a-number"  # the box's x coordinate
    lines[line_number - 1] = " ".join(fields)
    return "".join(lines).encode()


def test_a_garbled_label_line_is_422_naming_file_and_line_and_leaves_nothing(
    api_app: FastAPI,
    client: TestClient,
    db_factory: sessionmaker[Session],
    team: ApiTeam,
    tmp_path: Path,
    upload_tmp: Path,
) -> None:
    bad_line = len(LABEL_FILE.read_text().splitlines()) * 2 // 3
    archive = write_zip(
        tmp_path / "kitti.zip",
        KITTI_ROOT,
        sequence_files(KITTI_ROOT, "0000"),
        top="kitti-tracking",
        replace={LABEL_FILE: _garbled(bad_line)},
    )
    response = upload(
        client, team.project_id, archive, team.auth("meg"), format="kitti-tracking", sequence="0000"
    )
    assert response.status_code == 422, response.text
    body = response.json()
    named = "kitti-tracking/training/label_02/0000.txt"
    assert f"{named}, line {bad_line}" in body["error"] and body["field"] == named
    # The server's own folders are not the client's business.
    assert str(upload_tmp) not in response.text
    assert client.get(f"/api/projects/{team.project_id}/scenes", headers=team.auth("meg")).json() == []
    _nothing_imported(api_app, db_factory)
    assert list(upload_tmp.iterdir()) == []


def _zip_with(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return path


def _label_members() -> dict[str, bytes]:
    return {"kitti-tracking/training/label_02/0000.txt": LABEL_FILE.read_bytes()}


@pytest.mark.parametrize("kind", ["parent", "absolute", "backslash"])
def test_archive_members_outside_the_upload_are_refused(
    api_app: FastAPI,
    client: TestClient,
    db_factory: sessionmaker[Session],
    team: ApiTeam,
    tmp_path: Path,
    upload_tmp: Path,
    kind: str,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    # The server unpacks into <tmp_path>/server-tmp/<upload>/data: three levels up is tmp_path.
    evil = {
        "parent": "kitti-tracking/../../../../outside/evil.txt",
        "absolute": str(outside / "evil.txt"),
        "backslash": "..\\..\\..\\outside\\evil.txt",
    }[kind]
    archive = _zip_with(tmp_path / "slip.zip", {**_label_members(), evil: b"gotcha"})
    response = upload(
        client, team.project_id, archive, team.auth("meg"), format="kitti-tracking", sequence="0000"
    )
    assert response.status_code == 422, response.text
    assert "outside the upload" in response.json()["error"] and response.json()["field"] == "archive"
    assert list(outside.iterdir()) == []
    assert list(tmp_path.rglob("evil.txt")) == []
    assert list(upload_tmp.iterdir()) == []
    _nothing_imported(api_app, db_factory)


def _tar_with_link(path: Path, link_type: bytes, target: str) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        data = LABEL_FILE.read_bytes()
        info = tarfile.TarInfo("kitti-tracking/training/label_02/0000.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("kitti-tracking/training/calib/0000.txt")
        link.type = link_type
        link.linkname = target
        archive.addfile(link)
    return path


@pytest.mark.parametrize(
    ("link_type", "target"),
    [
        (tarfile.SYMTYPE, "/etc/passwd"),
        (tarfile.SYMTYPE, "../label_02/0000.txt"),
        (tarfile.LNKTYPE, "/etc/passwd"),
    ],
)
def test_tar_archives_with_links_are_refused(
    api_app: FastAPI,
    client: TestClient,
    db_factory: sessionmaker[Session],
    team: ApiTeam,
    tmp_path: Path,
    upload_tmp: Path,
    link_type: bytes,
    target: str,
) -> None:
    archive = _tar_with_link(tmp_path / "links.tar.gz", link_type, target)
    response = upload(
        client, team.project_id, archive, team.auth("meg"), format="kitti-tracking", sequence="0000"
    )
    assert response.status_code == 422, response.text
    assert "link" in response.json()["error"] and response.json()["field"] == "archive"
    assert list(upload_tmp.iterdir()) == []
    _nothing_imported(api_app, db_factory)


def test_an_upload_over_the_limit_is_413(
    api_app: FastAPI,
    client: TestClient,
    db_factory: sessionmaker[Session],
    team: ApiTeam,
    tmp_path: Path,
    upload_tmp: Path,
) -> None:
    limit = int(api_app.state.labelpilot.settings.max_upload_mb * 1024 * 1024)
    images = sorted((KITTI_ROOT / "training" / "image_02" / "0001").glob("*.png"))
    archive = write_zip(
        tmp_path / "big.zip", KITTI_ROOT, sequence_files(KITTI_ROOT, "0001"), top="kitti-tracking"
    )
    assert archive.stat().st_size > limit > images[0].stat().st_size  # real data over the test limit
    response = upload(
        client, team.project_id, archive, team.auth("meg"), format="kitti-tracking", sequence="0001"
    )
    assert response.status_code == 413, response.text
    assert str(limit) in response.json()["error"]
    # A body without Content-Length (chunked) is cut off while it streams in.
    streamed = client.post(
        f"/api/projects/{team.project_id}/scenes/upload",
        content=iter([b"x" * 65536] * (limit // 65536 + 2)),
        headers={**team.auth("meg"), "Content-Type": "multipart/form-data; boundary=abc"},
    )
    assert streamed.status_code == 413, streamed.text
    _nothing_imported(api_app, db_factory)
    assert list(upload_tmp.iterdir()) == []


def test_a_small_archive_that_unpacks_to_too_much_is_refused(
    api_app: FastAPI,
    client: TestClient,
    db_factory: sessionmaker[Session],
    team: ApiTeam,
    tmp_path: Path,
    upload_tmp: Path,
) -> None:
    limit = int(api_app.state.labelpilot.settings.max_upload_mb * 1024 * 1024)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("kitti-tracking/training/label_02/0000.txt", LABEL_FILE.read_bytes())
        with archive.open("kitti-tracking/padding.bin", "w") as member:
            for _ in range(40):
                member.write(bytes(limit))
    assert bomb.stat().st_size < limit
    response = upload(
        client, team.project_id, bomb, team.auth("meg"), format="kitti-tracking", sequence="0000"
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "archive" and "unpacks to more than" in response.json()["error"]
    assert list(upload_tmp.iterdir()) == []
    _nothing_imported(api_app, db_factory)


def _corrupt_zip(path: Path) -> Path:
    """A real deflated zip whose compressed label data was overwritten in the middle."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("kitti-tracking/training/label_02/0000.txt", LABEL_FILE.read_bytes())
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    return path


def _truncated_tar(path: Path) -> Path:
    """A real .tar.gz of the sequence cut off half way through."""
    with tarfile.open(path, "w:gz") as archive:
        for file in sequence_files(KITTI_ROOT, "0000"):
            archive.add(file, f"kitti-tracking/{file.relative_to(KITTI_ROOT).as_posix()}")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


@pytest.mark.parametrize("make", [_corrupt_zip, _truncated_tar], ids=["corrupt-zip", "truncated-tar"])
def test_corrupt_archives_are_422(
    api_app: FastAPI,
    client: TestClient,
    db_factory: sessionmaker[Session],
    team: ApiTeam,
    tmp_path: Path,
    upload_tmp: Path,
    make: Callable[[Path], Path],
) -> None:
    archive = make(tmp_path / "broken.archive")
    response = upload(
        client, team.project_id, archive, team.auth("meg"), format="kitti-tracking", sequence="0000"
    )
    assert response.status_code == 422, response.text
    assert list(upload_tmp.iterdir()) == []
    _nothing_imported(api_app, db_factory)


@pytest.mark.parametrize("sequence", ["../../../outside/secret", "..", "a/b", "..\\outside"])
def test_a_sequence_is_a_plain_name_not_a_path(
    client: TestClient, team: ApiTeam, tmp_path: Path, upload_tmp: Path, sequence: str
) -> None:
    # Formats join the sequence onto the upload's folder (OpenLABEL reads <folder>/<sequence>.json):
    # a path there would read files outside the upload.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text('{"openlabel": "not yours"}')
    archive = write_zip(tmp_path / "kitti.zip", KITTI_ROOT, sequence_files(KITTI_ROOT, "0000"), top="kitti")
    response = upload(
        client, team.project_id, archive, team.auth("meg"), format="openlabel", sequence=sequence
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "body.sequence" and "not yours" not in response.text
    assert list(upload_tmp.iterdir()) == []


def test_dataset_names_too_long_for_the_tables_are_422(
    api_app: FastAPI,
    db_factory: sessionmaker[Session],
    team: ApiTeam,
    tmp_path: Path,
) -> None:
    """A tracker folder names a layer (auto:<folder>); layer names have at most 120 characters."""
    tracker = KITTI_ROOT / "tracker" / "pointrcnn_Car_hailanyi" / "0000.txt"
    long_name = "t" * 130
    files = sequence_files(KITTI_ROOT, "0000")
    with zipfile.ZipFile(tmp_path / "long.zip", "w") as archive:
        for path in files:
            relative = path.relative_to(KITTI_ROOT).as_posix()
            if path == tracker:
                relative = f"tracker/{long_name}/0000.txt"
            archive.writestr(f"kitti-tracking/{relative}", path.read_bytes())
    with TestClient(api_app, raise_server_exceptions=False) as lenient:
        response = upload(
            lenient,
            team.project_id,
            tmp_path / "long.zip",
            team.auth("meg"),
            format="kitti-tracking",
            sequence="0000",
        )
    assert response.status_code == 422, response.text
    assert long_name in response.json()["error"]


def test_uploads_of_callers_who_may_not_import_are_refused_before_unpacking(
    client: TestClient, team: ApiTeam, tmp_path: Path, upload_tmp: Path
) -> None:
    # An archive that fails when unpacked: a 403 (not a 422) shows that nothing was unpacked.
    archive = _zip_with(tmp_path / "slip.zip", {**_label_members(), "../../evil.txt": b"gotcha"})
    for caller, status in [("ann", 403), ("rita", 403), ("otto", 404)]:
        response = upload(client, team.project_id, archive, team.auth(caller), format="kitti-tracking")
        assert response.status_code == status, (caller, response.text)
    assert (
        upload(client, team.project_id, archive, team.auth("meg"), format="kitti-tracking").status_code == 422
    )
    assert list(upload_tmp.iterdir()) == []


def test_a_garbled_single_file_upload_names_the_file_as_uploaded(
    api_app: FastAPI, client: TestClient, db_factory: sessionmaker[Session], team: ApiTeam, tmp_path: Path
) -> None:
    source = MOT_FILE.read_text().splitlines(keepends=True)
    bad_line = len(source) // 2
    fields = source[bad_line - 1].split(",")
    fields[2] = "left"  # bb_left
    source[bad_line - 1] = ",".join(fields)
    garbled = tmp_path / "gt.txt"
    garbled.write_text("".join(source))
    response = upload(client, team.project_id, garbled, team.auth("meg"), format="mot")
    assert response.status_code == 422, response.text
    assert (
        response.json()["error"].startswith(f"gt.txt, line {bad_line}")
        and response.json()["field"] == "gt.txt"
    )
    _nothing_imported(api_app, db_factory)
