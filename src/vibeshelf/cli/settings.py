"""The one `Settings` a command runs with: built from the global options, kept on the root context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from vibeshelf.cli.errors import fail
from vibeshelf.settings import Settings


def read_settings(config: Path | None, **options: Any) -> Settings:
    """defaults < the config file < VIBESHELF_* variables < the given options (None = not given).

    Without `config`, the file is $VIBESHELF_CONFIG or ./vibeshelf.toml, as for `Settings()`.
    """
    given = {name: value for name, value in options.items() if value is not None}
    if config is not None and not config.is_file():
        fail(f"config file {config} does not exist")
    try:
        return (Settings if config is None else Settings.reading(config))(**given)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        fail(f"invalid settings: {exc}")


def current_settings(ctx: typer.Context) -> Settings:
    """The settings the root command built for this run."""
    settings = ctx.find_root().obj
    if not isinstance(settings, Settings):
        raise TypeError("commands run under the root `vibeshelf` app, which reads the settings")
    return settings


def with_section(settings: Settings, section: str, **values: Any) -> Settings:
    """`settings` with fields of one section replaced (values already checked by the caller)."""
    part = getattr(settings, section).model_copy(update=values)
    return settings.model_copy(update={section: part})


def source_folder(holding: str) -> Any:
    """The --source option of an ingest command: the folder holding the dataset's `holding`."""
    return typer.Option(help=f"Folder holding {holding} (default: catalog.source_dir).")
