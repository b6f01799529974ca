"""OpenLABEL import of garbled copies of a real export: a FormatError naming the file and the line
(JSON syntax) or the JSON path (schema and geometry), never a half-built scene."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from labelpilot.formats import FormatError, openlabel
from labelpilot.scenes import Scene
from tests.formats.test_openlabel import LOG, build_scene

Json = dict[str, Any]


@pytest.fixture(scope="module")
def scene(sample_dir: Path) -> Scene:
    return build_scene(sample_dir / "argoverse2" / "logs" / LOG, first_frame=0, count=6)


@pytest.fixture(scope="module")
def original(scene: Scene, tmp_path_factory: pytest.TempPathFactory) -> Json:
    (path,) = openlabel.write(scene, tmp_path_factory.mktemp("bad") / "scene.json")
    loaded: Json = json.loads(path.read_text())
    return loaded


def first_object(document: Json) -> tuple[str, str, Json]:
    """(frame key, uid, frame object) of the first object with a cuboid."""
    for key, frame in document["openlabel"]["frames"].items():
        for uid, obj in (frame.get("objects") or {}).items():
            if "cuboid" in obj["object_data"]:
                return key, uid, obj
    raise AssertionError("the export has no objects")


def garbled(tmp_path: Path, original: Json, change: Callable[[Json], None]) -> Path:
    document = copy.deepcopy(original)
    change(document)
    path = tmp_path / "garbled.json"
    path.write_text(json.dumps(document, indent=1))
    return path


def read_error(path: Path) -> FormatError:
    with pytest.raises(FormatError) as caught:
        openlabel.read(path)
    assert str(path) in str(caught.value), "the error must name the file"
    return caught.value


# --- JSON syntax: the line ----------------------------------------------------------------------------


def test_truncated_file_names_its_last_line(original: Json, tmp_path: Path) -> None:
    text = json.dumps(original, indent=1)
    cut = text[: len(text) // 2]
    path = tmp_path / "truncated.json"
    path.write_text(cut)
    error = read_error(path)
    assert error.line == cut.count("\n") + 1
    assert "invalid JSON" in error.message


def test_garbled_character_names_its_line(original: Json, tmp_path: Path) -> None:
    lines = json.dumps(original, indent=1).splitlines()
    target = next(i for i, line in enumerate(lines) if i > 40 and line.rstrip().endswith(","))
    lines[target] = lines[target].rstrip()[:-1] + ";"
    path = tmp_path / "semicolon.json"
    path.write_text("\n".join(lines))
    assert read_error(path).line == target + 1


def test_empty_file_and_binary_garbage(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("")
    assert read_error(empty).line == 1
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert "UTF-8" in read_error(binary).message


def test_missing_file_and_ambiguous_directory(original: Json, tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="not found"):
        openlabel.read(tmp_path / "absent.json")
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(original))
    with pytest.raises(FormatError, match=r"a\.json, b\.json"):
        openlabel.read(tmp_path)
    with pytest.raises(FormatError, match="sequences: a, b"):
        openlabel.read(tmp_path, "c")


# --- schema and content: the field -------------------------------------------------------------------


def test_nan_names_the_field(original: Json, tmp_path: Path) -> None:
    key, uid, obj = first_object(original)
    obj = copy.deepcopy(obj)
    obj["object_data"]["cuboid"][0]["val"][1] = float("nan")

    def change(document: Json) -> None:
        document["openlabel"]["frames"][key]["objects"][uid] = obj

    error = read_error(garbled(tmp_path, original, change))  # json.dumps writes the bare token NaN
    assert error.field == f"openlabel.frames.{key}.objects.{uid}.object_data.cuboid[0].val[1]"


def test_short_cuboid_violates_the_schema(original: Json, tmp_path: Path) -> None:
    key, uid, _ = first_object(original)

    def change(document: Json) -> None:
        document["openlabel"]["frames"][key]["objects"][uid]["object_data"]["cuboid"][0]["val"] = [1.0] * 8

    error = read_error(garbled(tmp_path, original, change))
    assert error.field == f"openlabel.frames.{key}.objects.{uid}.object_data.cuboid[0].val"
    assert "schema" in error.message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["openlabel"]["metadata"].pop("schema_version"), "openlabel.metadata"),
        (
            lambda d: d["openlabel"]["metadata"].update(schema_version="2.0.0"),
            "openlabel.metadata.schema_version",
        ),
        (lambda d: d["openlabel"]["objects"]["0"].pop("type"), "openlabel.objects.0"),
        (lambda d: d["openlabel"]["frames"]["1"].update(extra=1), "openlabel.frames.1"),
        (
            lambda d: d["openlabel"]["streams"]["up_lidar"].update(type="sonar"),
            "openlabel.streams.up_lidar.type",
        ),
    ],
    ids=[
        "no-schema-version",
        "wrong-version",
        "object-without-type",
        "unknown-frame-key",
        "unknown-stream-type",
    ],
)
def test_schema_violations_name_the_path(
    original: Json, tmp_path: Path, change: Callable[[Json], Any], field: str
) -> None:
    error = read_error(garbled(tmp_path, original, change))
    assert error.field == field


def test_unknown_coordinate_system(original: Json, tmp_path: Path) -> None:
    key, uid, _ = first_object(original)

    def change(document: Json) -> None:
        document["openlabel"]["frames"][key]["objects"][uid]["object_data"]["cuboid"][0][
            "coordinate_system"
        ] = "radar9"

    error = read_error(garbled(tmp_path, original, change))
    assert error.field == f"openlabel.frames.{key}.objects.{uid}.object_data.cuboid[0].coordinate_system"
    assert "radar9" in error.message


def test_parent_that_does_not_exist(original: Json, tmp_path: Path) -> None:
    error = read_error(
        garbled(
            tmp_path, original, lambda d: d["openlabel"]["coordinate_systems"]["ego"].update(parent="map")
        )
    )
    assert error.field == "openlabel.coordinate_systems.ego.parent"


def test_undeclared_object_in_a_frame(original: Json, tmp_path: Path) -> None:
    key, _, obj = first_object(original)
    error = read_error(
        garbled(tmp_path, original, lambda d: d["openlabel"]["frames"][key]["objects"].update({"777": obj}))
    )
    assert error.field == f"openlabel.frames.{key}.objects.777"


def test_scaled_matrix_is_not_a_rotation(original: Json, tmp_path: Path) -> None:
    def change(document: Json) -> None:
        matrix = document["openlabel"]["frames"]["2"]["frame_properties"]["transforms"]["odom_to_ego"]
        matrix["transform_src_to_dst"]["matrix4x4"][0] *= 2.0

    error = read_error(garbled(tmp_path, original, change))
    assert (
        error.field
        == "openlabel.frames.2.frame_properties.transforms.odom_to_ego.transform_src_to_dst.matrix4x4"
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1, 2, 3, 0, 0, 0, 0, 4, 2, 1.5], "quaternion is zero"),
        ([1, 2, 3, 0, 0, 0, 1, 4, -2, 1.5], "negative"),
    ],
    ids=["zero-quaternion", "negative-size"],
)
def test_impossible_cuboids(original: Json, tmp_path: Path, values: list[float], message: str) -> None:
    key, uid, _ = first_object(original)

    def change(document: Json) -> None:
        document["openlabel"]["frames"][key]["objects"][uid]["object_data"]["cuboid"][0]["val"] = values

    error = read_error(garbled(tmp_path, original, change))
    assert error.field == f"openlabel.frames.{key}.objects.{uid}.object_data.cuboid[0].val"
    assert message in error.message


def test_unknown_status(original: Json, tmp_path: Path) -> None:
    def change(document: Json) -> None:
        for entry in document["openlabel"]["objects"]["0"]["object_data"]["text"]:
            if entry["name"] == "status":
                entry["val"] = "maybe"

    error = read_error(garbled(tmp_path, original, change))
    assert error.field == "openlabel.objects.0.object_data.text.status"


def test_decreasing_and_garbled_timestamps(original: Json, tmp_path: Path) -> None:
    def decrease(document: Json) -> None:
        document["openlabel"]["frames"]["3"]["frame_properties"]["timestamp"] = "1.000000"

    error = read_error(garbled(tmp_path, original, decrease))
    assert error.field == "openlabel.frames.3.frame_properties.timestamp"
    error = read_error(
        garbled(
            tmp_path,
            original,
            lambda d: d["openlabel"]["frames"]["4"]["frame_properties"].update(timestamp="4 pm"),
        )
    )
    assert error.field == "openlabel.frames.4.frame_properties.timestamp"


def test_camera_without_image_size(original: Json, tmp_path: Path) -> None:
    def change(document: Json) -> None:
        del document["openlabel"]["streams"]["ring_rear_left"]["stream_properties"]["intrinsics_pinhole"][
            "width_px"
        ]

    error = read_error(garbled(tmp_path, original, change))
    assert error.field == "openlabel.streams.ring_rear_left.stream_properties.intrinsics_pinhole"
    assert "width_px" in error.message


@pytest.mark.parametrize("value", [-5.0, 0, "far", True])
def test_a_bad_lidar_range_names_the_field(original: Json, tmp_path: Path, value: Any) -> None:
    (name,) = [n for n, s in original["openlabel"]["streams"].items() if s["type"] == "lidar"]

    def change(document: Json) -> None:
        document["openlabel"]["streams"][name]["stream_properties"]["intrinsics_custom"]["range_m"] = value

    error = read_error(garbled(tmp_path, original, change))
    assert error.field == f"openlabel.streams.{name}.stream_properties.intrinsics_custom.range_m"
