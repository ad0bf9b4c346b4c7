"""`vibeshelf embed --engine ray` on a local Ray: the same vectors as one process, snappy shards, resume."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, VIBESHELF, require, run_cli
from vibeshelf.catalog.sample import SAMPLE_PATH
from vibeshelf.embed.vectors import load_embeddings
from vibeshelf.settings import Settings


@pytest.fixture(autouse=True, scope="module")
def _needs_ray() -> None:
    require("ray")

BOOKS = 250
MODEL = Settings().model.name


def data_dir_with_books(root: Path, n: int = BOOKS) -> Path:
    """A data dir whose catalog is the first `n` books of the bundled sample."""
    books = root / "catalog" / "books.parquet"
    books.parent.mkdir(parents=True)
    duckdb.sql(f"COPY (SELECT * FROM read_parquet('{SAMPLE_PATH}') LIMIT {n}) TO '{books}' (FORMAT parquet)")
    return root


@pytest.fixture(scope="module")
def local_vectors(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], np.ndarray]:
    data_dir = data_dir_with_books(tmp_path_factory.mktemp("local"))
    run_cli("embed", "--engine", "local", data_dir=data_dir)
    result = load_embeddings(data_dir / "embeddings", MODEL)
    return result.ids, result.vectors


def shards(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "embeddings" / f"{MODEL.lower()}.shards").glob("part-*.parquet"))


def test_ray_vectors_equal_the_single_process_and_shards_are_snappy(
    tmp_path: Path, local_vectors: tuple[list[str], np.ndarray]
) -> None:
    data_dir = data_dir_with_books(tmp_path)
    run_cli("embed", "--engine", "ray", "--shard-size", "40", data_dir=data_dir)
    result = load_embeddings(data_dir / "embeddings", MODEL)
    ids, vectors = local_vectors
    assert result.ids == ids
    assert np.array_equal(result.vectors, vectors)
    files = shards(data_dir)
    assert len(files) == 7  # 250 documents in shards of 40: the last one holds 10
    assert sum(pq.ParquetFile(f).metadata.num_rows for f in files) == BOOKS
    assert {pq.ParquetFile(f).metadata.row_group(0).column(0).compression for f in files} == {"SNAPPY"}


def test_a_killed_run_resumes_without_redoing_finished_shards(
    tmp_path: Path, local_vectors: tuple[list[str], np.ndarray]
) -> None:
    data_dir = data_dir_with_books(tmp_path)
    env = {**os.environ, "VIBESHELF_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen(
        [*VIBESHELF, "embed", "--engine", "ray", "--shard-size", "10"],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while len(shards(data_dir)) < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = {f: f.stat().st_mtime_ns for f in shards(data_dir)}
    assert 3 <= len(finished) < 25, "the run should be killed part-way"
    assert not (data_dir / "embeddings" / MODEL.lower()).exists()

    out = run_cli("-v", "embed", "--engine", "ray", "--shard-size", "10", data_dir=data_dir)
    # Actors of the killed run may finish the shards they held; none finished before is redone.
    reused = int(re.search(r"ray: 25 shards, (\d+) reused", out.stderr).group(1))  # type: ignore[union-attr]
    assert len(finished) <= reused < 25
    for path, mtime in finished.items():
        assert path.stat().st_mtime_ns == mtime, f"{path.name} was encoded again"
    assert len(shards(data_dir)) == 25
    result = load_embeddings(data_dir / "embeddings", MODEL)
    assert np.array_equal(result.vectors, local_vectors[1])


def test_unreachable_cluster_exits_2(tmp_path: Path) -> None:
    data_dir = data_dir_with_books(tmp_path, n=20)
    out = run_cli("embed", "--engine", "ray", "--ray-address", "127.0.0.1:1", data_dir=data_dir, check=False)
    assert out.returncode == 2
    assert "Ray cluster 127.0.0.1:1" in out.stderr
