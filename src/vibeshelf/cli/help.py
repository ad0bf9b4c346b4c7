"""Help pages where boolean flags read as flags: `--explain`, not `--explain <bool>`."""

from __future__ import annotations

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.main import get_command

BuiltCommand = TyperCommand | TyperGroup  # what get_command builds


def build_cli(app: typer.Typer) -> BuiltCommand:
    """The command tree of `app`, with every boolean flag's type column left blank."""
    command = get_command(app)
    _blank_flag_types(command)
    return command


def _blank_flag_types(command: BuiltCommand) -> None:
    """Blank the type of each boolean flag, `--help` included, here and in every subcommand."""
    for param in command.get_params(typer.Context(command)):
        if isinstance(param, TyperOption) and param.is_bool_flag:
            param.metavar = ""
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            _blank_flag_types(sub)  # type: ignore[arg-type]
