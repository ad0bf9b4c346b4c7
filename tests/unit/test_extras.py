"""Server clients are optional extras: the laptop install runs without them, and a URL or option
that needs one names the extra to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from vibeshelf.config.extras import EXTRAS, MissingExtraError, require_extra
from vibeshelf.settings import Settings

# Run vibeshelf with every extra's modules made unimportable.
WITHOUT_EXTRAS = (
    "import sys\n"
    f"for name in {sorted(n for names in EXTRAS.values() for n in names)!r}:\n"
    "    sys.modules[name] = None\n"
)
CLI = WITHOUT_EXTRAS + (
    "from vibeshelf.cli import main\nsys.argv = ['vibeshelf', *sys.argv[1:]]\nmain()\n"
)
LAPTOP_MODULES = (
    "vibeshelf.cli",
    "vibeshelf.serve.app",
    "vibeshelf.embed.service",
    "vibeshelf.index.factory",
    "vibeshelf.recommend.storage.factory",
    "vibeshelf.experiment.feedback.factory",
    "vibeshelf.serve.launch",
)


def _run(script: str, args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        check=False,
        cwd=tmp_path,
        env=os.environ | {"VIBESHELF_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'vibeshelf\[postgres\]'"):
        require_extra("postgres", "events URL postgresql://")
    require_extra("redis", "a Redis URL")  # installed: no error
    require_extra("server", "--workers 2")


@pytest.mark.parametrize(
    ("env", "blocked", "extra"),
    [
        ({"VIBESHELF_STORE__URL": "redis://127.0.0.1:6379/0"}, "redis", "redis"),
        ({"VIBESHELF_ENCODE__REDIS_URL": "redis://127.0.0.1:6379/0"}, "redis", "redis"),
        ({"VIBESHELF_STORE__URL": "postgresql://db/v"}, "psycopg", "postgres"),
        ({"VIBESHELF_RECOMMEND__EVENTS_URL": "postgres://db/v"}, "psycopg", "postgres"),
        ({"VIBESHELF_EXPERIMENT__FEEDBACK_URL": "postgresql://db/v"}, "psycopg", "postgres"),
        ({"VIBESHELF_SERVE__WORKERS": "2"}, "gunicorn", "server"),
    ],
)
def test_settings_name_the_extra_a_url_needs(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], blocked: str, extra: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setitem(sys.modules, blocked, None)
    with pytest.raises(ValidationError, match=rf"pip install 'vibeshelf\[{extra}\]'"):
        Settings()


def test_the_laptop_install_imports_without_extras(tmp_path: Path) -> None:
    script = WITHOUT_EXTRAS + "".join(f"import {name}\n" for name in LAPTOP_MODULES)
    result = _run(script, [], tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "env", "extra"),
    [
        (
            ["search", "cozy"],
            {"VIBESHELF_RECOMMEND__EVENTS_URL": "postgresql://u:pw@db/v"},
            "postgres",
        ),
        (["index"], {"VIBESHELF_STORE__URL": "redis://127.0.0.1:6379/0"}, "redis"),
        (["serve", "--workers", "2", "--no-auth"], {}, "server"),
        (["features", "apply"], {}, "ranker"),
    ],
)
def test_the_cli_exits_2_naming_the_extra(
    tmp_path: Path, args: list[str], env: dict[str, str], extra: str
) -> None:
    result = _run(CLI, args, tmp_path, **env)
    assert result.returncode == 2, result.stderr
    assert f"pip install 'vibeshelf[{extra}]'" in result.stderr
    assert "pw@" not in result.stderr


def test_serving_and_the_cli_load_without_the_ranker_extra() -> None:
    """`scripts/setup.sh` without --test installs no pandas, LightGBM or Feast: the app and the
    CLI must still import (the two-stage pipeline is loaded only when a ranker is)."""
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in ("pandas", "lightgbm", "feast"))
    code = f"import sys; {blocked}; import vibeshelf.serve.app, vibeshelf.serve.recommender, vibeshelf.cli.app"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
