"""Every CLI command, option and setting is documented."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main

from labelpilot.cli import app
from labelpilot.formats import FORMATS
from labelpilot.settings import documented_setting_names

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _walk(command: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    # typer ships its own copy of click, so duck-type groups and options.
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _walk(sub, f"{prefix} {name}")
    else:
        yield prefix, command


def test_every_cli_command_and_option_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    missing: list[str] = []
    commands = list(_walk(typer.main.get_command(app), "labelpilot"))
    assert len(commands) >= 8
    for name, command in commands:
        if name not in text:
            missing.append(f"command {name!r}")
        for param in command.params:
            if getattr(param, "param_type_name", "") == "option":
                missing.extend(
                    f"{name} {opt}" for opt in param.opts if opt.startswith("--") and opt not in text
                )
    assert not missing, f"undocumented in docs/cli.md: {missing}"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    missing = [name for name in documented_setting_names() if f"`{name}`" not in text]
    assert not missing, f"undocumented in docs/configuration.md: {missing}"


def test_every_format_is_documented() -> None:
    text = (DOCS / "formats.md").read_text()
    assert not [name for name in FORMATS if f"`{name}`" not in text]
