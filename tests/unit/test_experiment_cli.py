"""`vibeshelf models` and `vibeshelf experiments` on a registry of recommend versions: exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.conftest import run_cli
from vibeshelf.cli.app import app
from vibeshelf.experiment.registry import RegistryFile


@pytest.fixture
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A data dir with two (metadata-only) trained recs versions."""
    monkeypatch.setenv("VIBESHELF_DATA_DIR", str(tmp_path))
    for version in ("v1", "v2"):
        model = tmp_path / "models" / "recs" / version
        model.mkdir(parents=True)
        metrics = {"als": {"ndcg_at_10": 0.12}, "popularity": {"ndcg_at_10": 0.04}}
        (model / "metadata.json").write_text(json.dumps({"data_checksum": "abc", "metrics": metrics}))
    (tmp_path / "models" / "recs" / "CURRENT").write_text("v2")
    return tmp_path


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_add_activate_pin_export_retire(data_dir: Path) -> None:
    assert cli("models", "add", "a", "--surface", "recommend", "--recs-version", "v1")[0] == 0
    assert cli("models", "add", "b", "--surface", "recommend", "--metric", "ctr_guess=0.1")[0] == 0
    b = RegistryFile(data_dir / "experiments").read().get("b")
    assert b.target == {"recs_version": "v2", "pipeline": "als"} and b.metrics == {"ndcg_at_10": 0.12, "ctr_guess": 0.1}
    assert b.data_checksum == "abc" and b.status == "registered"
    for name in ("a", "b"):
        assert cli("models", "activate", name)[0] == 0
    assert cli("experiments", "pin", "b", "--weight", "25")[0] == 0
    listed = json.loads(run_cli("models", "list", "--json", data_dir=data_dir).stdout)
    assert [(v["name"], v["status"], v["weight"], v["pinned"]) for v in listed] == [
        ("a", "active", 75.0, False), ("b", "active", 25.0, True)
    ]
    exported = yaml.safe_load(cli("experiments", "export", "--traefik")[1])
    weights = exported["http"]["services"]["vibeshelf-recommend"]["weighted"]["services"]
    assert weights == [{"name": "vibeshelf-recommend-a", "weight": 7500},
                       {"name": "vibeshelf-recommend-b", "weight": 2500}]
    assert cli("models", "retire", "a")[0] == 0
    assert RegistryFile(data_dir / "experiments").read().weights("recommend") == {"b": 100.0}


@pytest.mark.parametrize(
    "args, message",
    [
        (["models", "add", "x", "--surface", "video"], "unknown surface"),
        (["models", "add", "x", "--surface", "recommend", "--recs-version", "v9"], "not found"),
        (["models", "add", "bad name", "--surface", "recommend"], "name"),
        (["models", "add", "x", "--surface", "recommend", "--metric", "ndcg"], "NAME=NUMBER"),
        (["models", "add", "x", "--surface", "search", "--candidates", "1"], "candidates"),
        (["models", "activate", "nobody"], "unknown version"),
        (["experiments", "pin", "nobody"], "--weight"),
        (["experiments", "export"], "--traefik"),
        (["experiments", "update"], "no experiment registry"),
    ],
)
def test_bad_input_exits_2(data_dir: Path, args: list[str], message: str) -> None:
    code, out = cli(*args)
    assert code == 2 and message in out, out


def test_duplicates_and_over_large_pins_exit_2(data_dir: Path) -> None:
    cli("models", "add", "a", "--surface", "recommend")
    assert cli("models", "add", "a", "--surface", "recommend")[0] == 2
    cli("models", "add", "b", "--surface", "recommend")
    cli("models", "activate", "a")
    cli("models", "activate", "b")
    code, out = cli("experiments", "pin", "a", "--weight", "99.5")
    assert code == 2 and "floor" in out


def test_models_list_prints_an_aligned_table(data_dir: Path) -> None:
    """Through the real CLI: a header and one row per version, every column starting where its
    header does, the target as key=value words, and nothing else on either stream."""
    cli("models", "add", "a", "--surface", "recommend", "--recs-version", "v1")
    cli("models", "add", "longer-name", "--surface", "recommend")
    cli("models", "activate", "a")
    result = run_cli("models", "list", data_dir=data_dir, env={"VIBESHELF_LOG_LEVEL": "WARNING"})
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["SURFACE", "NAME", "STATUS", "WEIGHT", "PINNED", "CREATED", "TARGET"]
    starts = [header.index(column) for column in header.split()]
    for row in rows:
        assert all(row[start - 1] == " " and row[start] != " " for start in starts[1:]), row
    assert [row.split()[1:5] for row in rows] == [
        ["a", "active", "100.00%", "no"], ["longer-name", "registered", "0.00%", "no"]
    ]
    assert rows[0].endswith("recs_version=v1 pipeline=als")
    assert rows[1].endswith("recs_version=v2 pipeline=als")
    assert "{" not in result.stdout and result.stderr == ""


def test_models_list_without_a_registry(data_dir: Path) -> None:
    result = run_cli("models", "list", "--json", data_dir=data_dir)
    assert json.loads(result.stdout) == []
    result = run_cli("models", "list", data_dir=data_dir)
    assert result.stdout == "" and "vibeshelf models add" in result.stderr
