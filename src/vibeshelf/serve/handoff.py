"""The settings `vibeshelf serve --workers N` hands its gunicorn workers: JSON in one variable."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import SecretStr

from vibeshelf.settings import Settings

SETTINGS_ENV = "VIBESHELF_HANDOFF_SETTINGS"


def handoff_env(settings: Settings) -> dict[str, str]:
    """The environment entry carrying `settings` (only the fields set, secrets in clear)."""
    return {SETTINGS_ENV: json.dumps(settings.model_dump(exclude_unset=True), default=_plain)}


def inherited_settings() -> Settings:
    """The settings handed down by `vibeshelf serve`, else read afresh (config file and env)."""
    text = os.environ.get(SETTINGS_ENV)
    return Settings() if text is None else Settings.model_validate_json(text)


def _plain(value: object) -> object:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot hand over a {type(value).__name__} setting")
