"""Load and check OpenLABEL documents against the official ASAM OpenLABEL 1.0.0 JSON schema.

The schema file is the one shipped in the ``kognic-openlabel`` package (``openlabel-1-0-0.json``), so
the check is against the published schema and not a copy kept here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match

from labelpilot.formats.errors import FormatError

SCHEMA_PACKAGE = "kognic.openlabel.schemas"
SCHEMA_FILE = "openlabel-1-0-0.json"


@cache
def official_schema() -> dict[str, Any]:
    """The official OpenLABEL 1.0.0 JSON schema (draft 7)."""
    text = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft7Validator:
    return Draft7Validator(official_schema())


def field_path(parts: Sequence[str | int]) -> str:
    """``openlabel.frames.3.objects.0.object_data.cuboid[0].val`` from a sequence of keys and indices."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def schema_problem(document: Any) -> tuple[str, str] | None:
    """(field, message) of the most relevant schema violation, or None when the document is valid."""
    error = best_match(_validator().iter_errors(document))
    if error is None:
        return None
    return field_path(list(error.absolute_path)) or "(document root)", error.message[:300]


def validate(document: Any, source: Path) -> None:
    """Raise FormatError naming the JSON path of the first schema violation."""
    problem = schema_problem(document)
    if problem is not None:
        where, message = problem
        raise FormatError(source, f"violates the OpenLABEL 1.0.0 schema: {message}", field=where)


def _first_non_finite(document: Any) -> str | None:
    """The path of the first NaN or infinity (Python's json accepts them; JSON does not)."""
    stack: list[tuple[Any, list[str | int]]] = [(document, [])]
    while stack:
        node, parts = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return field_path(parts)
        if isinstance(node, dict):
            stack.extend((value, [*parts, str(key)]) for key, value in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((value, [*parts, i]) for i, value in reversed(list(enumerate(node))))
    return None


def load_document(path: Path) -> dict[str, Any]:
    """Parse and schema-check one OpenLABEL JSON file; every failure names the file and line or field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormatError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise FormatError(path, f"not a UTF-8 text file ({exc.reason})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    bad_number = _first_non_finite(document)
    if bad_number is not None:
        raise FormatError(path, "NaN or infinity is not a JSON number", field=bad_number)
    if not isinstance(document, dict) or "openlabel" not in document:
        raise FormatError(path, "an OpenLABEL file is an object with an 'openlabel' key", field="openlabel")
    validate(document, path)
    return document
