"""`vibeshelf demo` run again keeps the indexes built from the same inputs, and rebuilds on a change."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import run_cli


def current_index(data_dir: Path) -> str:
    return (data_dir / "index" / "CURRENT").read_text().strip()


def test_a_second_demo_keeps_the_index_and_a_changed_setting_rebuilds_it(
    sample_data_dir: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(sample_data_dir, data_dir)
    built = current_index(data_dir)

    again = run_cli("demo", "--no-serve", data_dir=data_dir)
    assert f"kept index build {built}" in again.stdout
    assert "indexed" not in again.stdout
    assert current_index(data_dir) == built

    changed = run_cli(
        "demo", "--no-serve", data_dir=data_dir, env={"VIBESHELF_STORE__HNSW_EF_CONSTRUCTION": "64"}
    )
    assert "indexed 3000 books" in changed.stdout
    rebuilt = current_index(data_dir)
    assert rebuilt != built
    assert '"ef_construction": 64' in (data_dir / "index" / "builds" / rebuilt / "manifest.json").read_text()
