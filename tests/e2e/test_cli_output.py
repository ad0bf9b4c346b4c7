"""What commands print through the real CLI: `search` its results only, the long-running stages one
summary line; no INFO logs unless -v, and with -v no fact both logged and printed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.fixture
def data_dir(sample_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("VIBESHELF_LOG_LEVEL", raising=False)
    copy = tmp_path / "data"
    shutil.copytree(sample_data_dir, copy, ignore=shutil.ignore_patterns("logs"))
    return copy


def test_embed_prints_one_summary_and_logs_it_nowhere(data_dir: Path) -> None:
    quiet = run_cli("embed", data_dir=data_dir)
    summary = r"embedded \d+ documents and \d+ descriptions with \S+ \(.*\) in \S+s\n"
    assert re.fullmatch(summary, quiet.stdout), quiet.stdout
    assert " INFO " not in quiet.stderr
    verbose = run_cli("-v", "embed", data_dir=data_dir)
    assert " INFO " in verbose.stderr  # the encoder says where it loaded from
    said = (verbose.stdout + verbose.stderr).splitlines()
    assert len([line for line in said if "embedded " in line]) == 1, said


def test_index_prints_one_summary_and_logs_no_build_twice(data_dir: Path) -> None:
    quiet = run_cli("index", data_dir=data_dir)
    assert len(quiet.stdout.splitlines()) == 1 and " INFO " not in quiet.stderr
    verbose = run_cli("-v", "index", data_dir=data_dir)
    builds = re.findall(r"build (\S+) in", verbose.stdout)
    assert len(builds) == 2, verbose.stdout  # the vector index's and BM25's
    said = verbose.stdout + verbose.stderr
    assert all(said.count(build) == 1 for build in builds), said


def test_search_prints_its_results_only(data_dir: Path) -> None:
    result = run_cli("search", "cozy village mystery", "--limit", "3", data_dir=data_dir)
    assert [line.split(".")[0].strip() for line in result.stdout.splitlines()] == ["1", "2", "3"]
    assert re.fullmatch(r"3 results in [\d.]+ ms\n", result.stderr), result.stderr
