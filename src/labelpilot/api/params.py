"""Types for what clients send, bounded to what the database can hold.

Every integer the API accepts is an id, a frame, a version or a priority stored in a 32-bit INTEGER
column (PostgreSQL's ``integer``; SQLite cannot even bind numbers past 64 bits), and PostgreSQL text
cannot hold NUL characters. Out-of-range numbers and NULs are refused as 422 at the boundary instead
of failing in the database as 500.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, Field

MAX_INT32 = 2**31 - 1


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _plain_name(value: str) -> str:
    if not value or value.strip(".") == "" or any(c in value for c in "/\\\x00"):
        raise ValueError("must be a plain name: no slashes, not '.' or '..'")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
"""Any string a client sends (body fields, form fields, path and query parameters)."""
PlainName = Annotated[str, AfterValidator(_plain_name)]
"""A name that formats join onto a folder (a sequence): it must not lead out of the upload."""

Int32 = Annotated[int, Field(ge=-MAX_INT32 - 1, le=MAX_INT32)]
BodyId = Annotated[int, Field(ge=1, le=MAX_INT32)]
Version = Annotated[int, Field(ge=1, le=MAX_INT32, description="the version the client last saw")]
FrameNumber = Annotated[int, Field(ge=0, le=MAX_INT32)]

IdPath = Annotated[int, Path(ge=1, le=MAX_INT32)]
FramePath = Annotated[int, Path(ge=0, le=MAX_INT32)]
NamePath = Annotated[Text, Path(max_length=200)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_INT32)]
VersionQuery = Annotated[int, Query(ge=1, le=MAX_INT32, description="the version the client last saw")]
