"""The one error type importers and exporters raise for bad input."""

from __future__ import annotations

from pathlib import Path


class FormatError(Exception):
    """Bad input in a file: says which file, and the line or field where it can."""

    def __init__(
        self, path: Path | str, message: str, *, line: int | None = None, field: str | None = None
    ) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        where = self.path
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")
        self.message = message
