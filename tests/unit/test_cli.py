"""The CLI: every command has help where flags read as flags; bad input exits 2 with a one-line
message; --version; results on stdout, and INFO logs on stderr only with -v."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import run_cli
from vibeshelf import __version__
from vibeshelf.cli.app import app
from vibeshelf.cli.help import build_cli

COMMANDS = [
    [], ["ingest"], ["ingest", "goodbooks"], ["ingest", "file"], ["ingest", "sample"], ["embed"],
    ["index"], ["search"], ["serve"], ["demo"], ["model"], ["model", "export"], ["model", "info"],
    ["ingest", "interactions"], ["ingest", "interactions", "book-crossing"],
    ["ingest", "interactions", "goodreads"], ["ingest", "interactions", "file"],
    ["ingest", "interactions", "sample"], ["ingest", "interactions", "sources"],
    ["train"], ["train", "recs"], ["train", "ranker"], ["eval"], ["eval", "recs"], ["eval", "search"],
    ["models"], ["models", "list"], ["models", "add"], ["models", "activate"], ["models", "retire"],
    ["experiments"], ["experiments", "update"], ["experiments", "pin"], ["experiments", "export"],
]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("VIBESHELF_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_every_command_has_help(runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert len(result.output.splitlines()) > 4


def test_unreadable_catalog_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    result = runner.invoke(app, ["ingest", "file", str(missing), "--map", "book_id=id", "--map", "title=t"])
    assert result.exit_code == 2
    assert "nope.csv" in result.output


def test_bad_mapping_syntax_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", "file", str(tmp_path / "x.csv"), "--map", "title"])
    assert result.exit_code == 2
    assert "OURS=THEIRS" in result.output


def test_embed_without_catalog_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["embed"])
    assert result.exit_code == 2
    assert "vibeshelf ingest" in result.output


def test_index_without_embeddings_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["index"])
    assert result.exit_code == 2
    assert "vibeshelf embed" in result.output


def test_eval_search_with_a_bad_query_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["eval", "search", "--queries", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 2
    assert "no query file" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    result = runner.invoke(app, ["eval", "search", "--queries", str(bad)])
    assert result.exit_code == 2
    assert "bad.jsonl:1" in result.output


def test_search_rejects_an_unknown_mode(runner: CliRunner) -> None:
    result = runner.invoke(app, ["search", "ghosts", "--mode", "telepathy"])
    assert result.exit_code == 2


def test_missing_config_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["--config", str(tmp_path / "none.toml"), "embed"])
    assert result.exit_code == 2


def test_invalid_setting_exits_2(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBESHELF_SEARCH__CANDIDATES", "-5")
    result = runner.invoke(app, ["embed"])
    assert result.exit_code == 2
    assert "invalid settings" in result.output


@pytest.fixture
def quiet_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No log level from the developer's environment: the CLI's own default applies."""
    monkeypatch.delenv("VIBESHELF_LOG_LEVEL", raising=False)
    monkeypatch.delenv("VIBESHELF_CONFIG", raising=False)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_boolean_flags_read_as_flags_in_help(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command tree `vibeshelf` runs: no `<bool>` type, no `--no-x` twin of a plain flag."""
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exited:
        build_cli(app)([*command, "--help"], prog_name="vibeshelf")
    out = capsys.readouterr().out
    assert exited.value.code == 0 and "--help" in out
    assert "<bool>" not in out and "BOOLEAN" not in out and "default: False" not in out
    assert "--no-allow-public-no-auth" not in out


def test_search_help_from_the_real_cli_shows_bare_flags(tmp_path: Path) -> None:
    out = run_cli("search", "--help", data_dir=tmp_path, env={"COLUMNS": "200"}).stdout
    explain = next(line for line in out.splitlines() if "--explain" in line)
    assert re.search(r"--explain\s+Say why each result matched", explain), explain


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    result = run_cli("--version", data_dir=tmp_path)
    expected = (0, f"vibeshelf {__version__}\n", "")
    assert (result.returncode, result.stdout, result.stderr) == expected


def test_a_one_shot_command_prints_its_result_and_no_logs(tmp_path: Path, quiet_env: None) -> None:
    """`model info` loads the encoder, which logs where from at INFO: only with -v, on stderr."""
    quiet = run_cli("model", "info", data_dir=tmp_path)
    assert quiet.stderr == ""
    fields = dict(line.split(maxsplit=1) for line in quiet.stdout.splitlines())
    assert set(fields) == {"name", "version", "dim", "path"} and Path(fields["path"]).is_dir()
    verbose = run_cli("-v", "model", "info", data_dir=tmp_path)
    assert verbose.stdout == quiet.stdout
    assert " INFO " in verbose.stderr and fields["path"] in verbose.stderr


def test_model_info_json(tmp_path: Path, quiet_env: None) -> None:
    result = run_cli("model", "info", "--json", data_dir=tmp_path)
    info = json.loads(result.stdout)
    assert set(info) == {"name", "version", "dim", "path"} and result.stderr == ""
    assert isinstance(info["dim"], int) and info["dim"] > 0 and Path(info["path"]).is_dir()
