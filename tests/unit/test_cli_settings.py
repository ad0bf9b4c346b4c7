"""The settings a CLI run uses: global options over the environment over the config file, never
written back to the environment; `serve --workers N` hands them, secrets included, to its workers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vibeshelf.cli.app import app
from vibeshelf.cli.settings import read_settings
from vibeshelf.serve.handoff import SETTINGS_ENV, handoff_env, inherited_settings
from vibeshelf.settings import Settings

JWT_SECRET = "a-jwt-secret-of-at-least-32-characters"


def test_options_beat_the_environment_which_beats_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "vibeshelf.toml"
    config.write_text('data_dir = "from-file"\nlog_format = "json"\n[search]\ncandidates = 120\n')
    monkeypatch.setenv("VIBESHELF_SEARCH__CANDIDATES", "250")
    settings = read_settings(config, data_dir=tmp_path / "from-option", log_level=None)
    assert settings.data_dir == tmp_path / "from-option"
    assert (settings.log_format, settings.search.candidates) == ("json", 250)
    assert "log_level" not in settings.model_fields_set


def test_global_options_stay_out_of_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIBESHELF_DATA_DIR", raising=False)
    before = dict(os.environ)
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path / "data"), "-v", "embed"])
    assert result.exit_code == 2 and str(tmp_path / "data") in result.output
    assert dict(os.environ) == before


def test_workers_inherit_the_settings_secrets_included(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        data_dir=Path("/srv/books"),
        auth={"jwt_secret": JWT_SECRET, "api_keys": {"a": {"key": "k" * 20, "scopes": ["encode", "events"]}}},
        serve={"apis": "all"},
    )
    monkeypatch.setenv("VIBESHELF_DATA_DIR", "/elsewhere")
    for name, value in handoff_env(settings).items():
        monkeypatch.setenv(name, value)
    inherited = inherited_settings()
    assert inherited == settings and inherited.auth.jwt_secret.get_secret_value() == JWT_SECRET
    assert inherited.model_fields_set == settings.model_fields_set


def test_a_worker_takes_api_keys_from_the_handoff_not_the_environment_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`serve --workers N` with a plain key in the environment: each worker sees the key once."""
    monkeypatch.setenv(
        "VIBESHELF_AUTH__API_KEYS", '{"app": {"key": "a-plain-key-0123456789", "scopes": ["encode"]}}'
    )
    settings = Settings()
    for name, value in handoff_env(settings).items():
        monkeypatch.setenv(name, value)
    inherited = inherited_settings()
    assert inherited.auth.api_keys == settings.auth.api_keys
    assert list(inherited.auth.api_keys) == ["app"]


def test_without_a_handoff_the_app_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SETTINGS_ENV, raising=False)
    monkeypatch.setenv("VIBESHELF_DATA_DIR", "/elsewhere")
    assert inherited_settings().data_dir == Path("/elsewhere")
