"""`vibeshelf models` and `vibeshelf experiments` on a registry of recommend versions: exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from vibeshelf.cli import app
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
    assert b.target == {"recs_version": "v2"} and b.metrics == {"ndcg_at_10": 0.12, "ctr_guess": 0.1}
    assert b.data_checksum == "abc" and b.status == "registered"
    for name in ("a", "b"):
        assert cli("models", "activate", name)[0] == 0
    assert cli("experiments", "pin", "b", "--weight", "25")[0] == 0
    code, out = cli("models", "list")
    assert code == 0 and "b\tactive\t25.00% pinned" in out and "a\tactive\t75.00%" in out
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
