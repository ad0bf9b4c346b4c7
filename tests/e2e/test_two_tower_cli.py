"""`vibeshelf train two-tower` and `eval two-tower` as a person runs them, on the bundled sample."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import require, run_cli

pytestmark = pytest.mark.torch


@pytest.fixture
def data_dir(sample_data_dir: Path, tmp_path: Path) -> Path:
    require("torch", "onnx")
    copy = tmp_path / "data"
    shutil.copytree(sample_data_dir, copy, ignore=shutil.ignore_patterns("logs"))
    return copy


def test_train_writes_a_version_and_its_item_collection(data_dir: Path) -> None:
    done = run_cli("train", "two-tower", "--max-steps", "5", data_dir=data_dir)
    found = re.fullmatch(
        r"trained two-tower (\S+) on book-crossing-goodbooks: [\d,]+ users, ([\d,]+) items .*"
        r"collection two_tower_items\n",
        done.stdout,
    )
    assert found, done.stdout
    version, items = found.group(1), int(found.group(2).replace(",", ""))
    root = data_dir / "models" / "two-tower"
    assert (root / "CURRENT").read_text().strip() == version
    assert {p.name for p in (root / version).iterdir()} >= {"user_tower.onnx", "item_vectors.npy"}
    manifests = list((data_dir / "two_tower_items").glob("builds/*/manifest.json"))
    assert [json.loads(m.read_text())["count"] for m in manifests] == [items]


def test_eval_compares_two_tower_with_als_on_the_held_out_split(data_dir: Path) -> None:
    done = run_cli("eval", "two-tower", "--max-steps", "20", data_dir=data_dir)
    result = json.loads(done.stdout)
    assert set(result["rows"]) == {"popularity", "als", "two-tower"}
    for scores in result["rows"].values():
        assert 0.0 <= scores["recall_at_50"] <= scores["recall_at_200"] <= 1.0
        assert scores["users"] > 0
    assert result["rows"]["two-tower"]["recall_at_200"] > 0.0


def test_bad_settings_fail_with_a_message_and_exit_code_2(data_dir: Path) -> None:
    done = run_cli("train", "two-tower", "--epochs", "0", data_dir=data_dir, check=False)
    assert done.returncode == 2
    assert "invalid settings" in done.stderr and "epochs" in done.stderr
    assert not (data_dir / "models" / "two-tower").exists()
