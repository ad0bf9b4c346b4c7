"""`vibeshelf train ranker` as a reader of the docs runs it: bad input exits 2 with one line."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import run_cli


def test_an_unknown_source_exits_2_naming_it(tmp_path: Path) -> None:
    result = run_cli("train", "ranker", "--source", "nope", data_dir=tmp_path, check=False)
    assert result.returncode == 2
    assert "no interactions for source 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_too_few_readers_is_refused_before_any_work(tmp_path: Path) -> None:
    result = run_cli("train", "ranker", "--train-readers", "0", data_dir=tmp_path, check=False)
    assert result.returncode == 2
    assert "invalid settings" in result.stderr and "train_readers" in result.stderr
