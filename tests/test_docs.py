"""Every CLI command and option is documented in docs/cli.md."""

from __future__ import annotations

from pathlib import Path

import click
import typer.main

from labelpilot.cli import app

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _commands() -> dict[str, click.Command]:
    group = typer.main.get_command(app)
    assert isinstance(group, click.Group)
    return dict(group.commands)


def test_every_cli_command_and_option_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    missing: list[str] = []
    for name, command in _commands().items():
        if f"labelpilot {name}" not in text:
            missing.append(f"command {name}")
        for param in command.params:
            if isinstance(param, click.Option):
                for opt in param.opts:
                    if opt.startswith("--") and opt not in text:
                        missing.append(f"{name} {opt}")
    assert not missing, f"undocumented in docs/cli.md: {missing}"


def test_every_format_is_documented() -> None:
    from labelpilot.formats import FORMATS

    text = (DOCS / "formats.md").read_text()
    assert not [name for name in FORMATS if f"`{name}`" not in text]
