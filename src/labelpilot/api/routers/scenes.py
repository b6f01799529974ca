"""Scenes: upload-import, browse, and per-frame payloads (lidar, images, derived shapes)."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from labelpilot.api.archives import MAX_UNPACK_RATIO, client_view, extract_archive
from labelpilot.api.deps import BlobsDep, CurrentActor, SessionDep, app_state
from labelpilot.api.params import FramePath, IdPath, NamePath, PlainName, Text
from labelpilot.services import scenes
from labelpilot.services.actors import require_role
from labelpilot.services.errors import InvalidError
from labelpilot.services.layer_tracks import layer_tracks
from labelpilot.services.scene_access import MANAGERS

router = APIRouter(prefix="/api", tags=["scenes"])

SWEEP_MEDIA_TYPE = "application/octet-stream"
# Payloads of a frame never change once imported; a private cache may keep them, validated by ETag.
PAYLOAD_CACHE = "private, max-age=86400"
LayerPath = Annotated[
    Text, PathParam(min_length=1, max_length=120, description="e.g. work, candidates:auto:pointrcnn")
]


def _plain(value: Any) -> Any:
    return (
        dataclasses.asdict(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type)
        else value
    )


def _not_modified(if_none_match: str | None, quoted: str) -> bool:
    """If-None-Match holds a list of (possibly weak) tags or "*"; GET compares them weakly (RFC 9110)."""
    tags = [tag.strip().removeprefix("W/") for tag in (if_none_match or "").split(",")]
    return "*" in tags or quoted in tags


def _cached(request: Request, data: bytes, media_type: str, etag: str, headers: dict[str, str]) -> Response:
    quoted = f'"{etag}"'
    common = {"ETag": quoted, "Cache-Control": PAYLOAD_CACHE, **headers}
    if _not_modified(request.headers.get("if-none-match"), quoted):
        return Response(status_code=304, headers=common)
    return Response(content=data, media_type=media_type, headers=common)


@router.get("/projects/{project_id}/scenes")
def list_scenes(project_id: IdPath, session: SessionDep, actor: CurrentActor) -> list[dict[str, Any]]:
    return [_plain(s) for s in scenes.list_scenes(session, actor, project_id)]


@router.post("/projects/{project_id}/scenes/upload", status_code=201)
async def upload_scene(
    project_id: IdPath,
    request: Request,
    session: SessionDep,
    blobs: BlobsDep,
    actor: CurrentActor,
    archive: Annotated[
        UploadFile, File(description="a .zip or .tar(.gz) of the dataset folder, or one file")
    ],
    format_name: Annotated[Text, Form(alias="format", description="kitti-tracking, av2, openlabel, ...")],
    sequence: Annotated[
        PlainName | None, Form(max_length=200, description="which sequence or log of the dataset")
    ] = None,
    name: Annotated[Text | None, Form(max_length=200)] = None,
) -> dict[str, Any]:
    """Import an uploaded dataset as a new scene of the project, all or nothing (422 names the bad file)."""
    # Authorise before unpacking: unpacking is the costly part, and anyone logged in can upload.
    require_role(session, actor, project_id, MANAGERS)
    max_unpacked = int(app_state(request).settings.max_upload_mb * 1024 * 1024 * MAX_UNPACK_RATIO)
    with tempfile.TemporaryDirectory(prefix="labelpilot-upload-") as tmp:
        root = Path(tmp)
        upload = root / "upload.bin"
        with upload.open("wb") as handle:
            while chunk := await archive.read(1 << 20):
                handle.write(chunk)
        unpacked = root / "data"
        dataset = await run_in_threadpool(
            extract_archive, upload, archive.filename or "upload", unpacked, max_unpacked
        )
        try:
            row = await run_in_threadpool(
                scenes.import_scene, session, blobs, actor, project_id, format_name, dataset, sequence, name
            )
        except InvalidError as err:
            raise client_view(err, unpacked) from err
        return {"id": row.id, "name": row.name, "frame_count": row.frame_count}


@router.get("/scenes/{scene_id}")
def get_scene(scene_id: IdPath, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    return _plain(scenes.get_scene(session, actor, scene_id))  # type: ignore[no-any-return]


@router.get("/scenes/{scene_id}/frames")
def list_frames(scene_id: IdPath, session: SessionDep, actor: CurrentActor) -> list[dict[str, Any]]:
    return [_plain(f) for f in scenes.list_frames(session, actor, scene_id)]


@router.get("/scenes/{scene_id}/layers")
def list_layers(scene_id: IdPath, session: SessionDep, actor: CurrentActor) -> list[dict[str, Any]]:
    return [_plain(layer) for layer in scenes.list_layers(session, actor, scene_id)]


@router.get(
    "/scenes/{scene_id}/frames/{frame_index}/lidar",
    response_class=Response,
    responses={200: {"content": {SWEEP_MEDIA_TYPE: {}}, "description": "N x 4 little-endian float32"}},
)
def frame_lidar(
    scene_id: IdPath,
    frame_index: FramePath,
    request: Request,
    session: SessionDep,
    blobs: BlobsDep,
    actor: CurrentActor,
) -> Response:
    """The sweep as N rows of little-endian float32 x, y, z, intensity in the lidar frame (16 bytes a point)."""
    data, etag = scenes.sweep_bytes(session, blobs, actor, scene_id, frame_index)
    return _cached(request, data, SWEEP_MEDIA_TYPE, etag, {"X-Point-Count": str(len(data) // 16)})


@router.get("/scenes/{scene_id}/frames/{frame_index}/images/{camera}", response_class=Response)
def frame_image(
    scene_id: IdPath,
    frame_index: FramePath,
    camera: NamePath,
    request: Request,
    session: SessionDep,
    blobs: BlobsDep,
    actor: CurrentActor,
) -> Response:
    data, media_type, etag = scenes.image_bytes(session, blobs, actor, scene_id, frame_index, camera)
    return _cached(request, data, media_type, etag, {})


@router.get("/scenes/{scene_id}/frames/{frame_index}/shapes")
def frame_shapes(
    scene_id: IdPath,
    frame_index: FramePath,
    session: SessionDep,
    actor: CurrentActor,
    layer: Annotated[Text, Query(max_length=120)] = "work",
) -> list[dict[str, Any]]:
    """Every track of the layer with a shape in the frame: ego- and world-frame cuboids, derived."""
    return scenes.frame_shapes(session, actor, scene_id, frame_index, layer)


@router.get("/scenes/{scene_id}/layers/{layer}/tracks")
def list_layer_tracks(
    scene_id: IdPath, layer: LayerPath, session: SessionDep, actor: CurrentActor
) -> list[dict[str, Any]]:
    """Every live track of the layer with its world-frame shapes, as a track edit answers them."""
    return layer_tracks(session, actor, scene_id, layer)
