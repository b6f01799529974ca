"""The ``labelpilot`` command line (Typer)."""

from __future__ import annotations

import typer

from labelpilot.cli import (
    admin_commands,
    automation_commands,
    bench_commands,
    data_commands,
    demo,
    file_commands,
    server_commands,
)

app = typer.Typer(
    help="LabelPilot: label autonomous-driving sensor sequences for the most correct shapes per Euro.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(file_commands.inspect)
app.command()(file_commands.convert)
app.command()(admin_commands.init)
app.command("import")(data_commands.import_command)
app.command("export")(data_commands.export_command)
app.command("autolabel")(automation_commands.autolabel_command)
app.command("guidance")(automation_commands.guidance_command)
app.command()(server_commands.serve)
app.command()(demo.demo)
app.add_typer(admin_commands.users_app, name="users")
app.add_typer(admin_commands.tokens_app, name="tokens")
app.add_typer(admin_commands.projects_app, name="projects")
bench_commands.bench_app.command("effort")(bench_commands.effort_command)
app.add_typer(bench_commands.bench_app, name="bench")

__all__ = ["app"]
