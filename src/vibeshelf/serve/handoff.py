"""The settings `vibeshelf serve --workers N` hands its gunicorn workers: JSON in one variable."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from vibeshelf.settings import Settings

SETTINGS_ENV = "VIBESHELF_HANDOFF_SETTINGS"


def handoff_env(settings: Settings) -> dict[str, str]:
    """The environment entry carrying `settings` (only the fields set, secrets in clear)."""
    return {SETTINGS_ENV: json.dumps(settings.model_dump(exclude_unset=True), default=_plain)}


def inherited_settings() -> Settings:
    """The settings handed down by `vibeshelf serve`, else read afresh (config file and env)."""
    text = os.environ.get(SETTINGS_ENV)
    if text is None:
        return Settings()
    handed = _HandedDown.model_validate_json(text)
    return Settings.model_construct(handed.model_fields_set, **dict(handed))


class _HandedDown(Settings):
    """Settings read from the handoff alone: the environment and the file were read by `serve`
    already (read again, a plain API key would meet its own hash and be refused as given twice)."""

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        **_others: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def _plain(value: object) -> object:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot hand over a {type(value).__name__} setting")
