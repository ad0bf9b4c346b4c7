"""The CLI: every command has help; bad input exits 2 with a one-line message."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from vibeshelf.cli import app

COMMANDS = [
    [], ["ingest"], ["ingest", "goodbooks"], ["ingest", "file"], ["ingest", "sample"], ["embed"],
    ["index"], ["search"], ["serve"], ["demo"], ["model"], ["model", "export"], ["model", "info"],
    ["ingest", "interactions"], ["ingest", "interactions", "book-crossing"],
    ["ingest", "interactions", "goodreads"], ["ingest", "interactions", "file"],
    ["ingest", "interactions", "sample"], ["ingest", "interactions", "sources"],
    ["train"], ["train", "recs"], ["eval"], ["eval", "recs"], ["eval", "search"],
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
