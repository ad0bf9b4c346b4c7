"""`vibeshelf train recs --engine spark`: MLlib's ALS beside the single-node solver on the same ratings.

Both engines train through the CLI on the bundled ratings sample (42,809 Book-Crossing ratings of
the sample's books) with a small model; the Spark run uses one local[2] session shared by the module.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.conftest import require
from vibeshelf.catalog.sample import SAMPLE_PATH
from vibeshelf.cli.app import app
from vibeshelf.config.spark import SparkSettings
from vibeshelf.recommend.artifacts import ITEMS_FILE, METADATA_FILE, USERS_FILE, recs_root
from vibeshelf.recommend.schemas import RecommendRequest
from vibeshelf.serve.recommender import load_recommender
from vibeshelf.settings import Settings

TRAIN = ("train", "recs", "--factors", "16", "--iterations", "6")
# MLlib splits the work into blocks: two (one per core) instead of its default ten keeps it quick.
SPARK_ENV = {"VIBESHELF_RECOMMEND__SPARK__BLOCKS": "2"}
# Holdout NDCG@10 of the two engines (same split, same metric code) may differ by this much: about
# three standard errors of a mean NDCG@10 over the split's 3,315 test readers (per-reader sd ~0.25).
# The solvers differ (exact Cholesky vs 3 CG steps, MLlib's count-scaled regularisation, their own
# random starts); at these settings they came out 0.001 apart (0.0915 and 0.0904, popularity 0.069).
NDCG_TOLERANCE = 0.015
# Mean share of a sampled reader's top 10 that both engines serve. Two single-node fits that differ
# only in their seed share 0.23 at these settings, local and spark 0.226 (at random: ~0.01 of 1,159
# books). Both must also beat the share of the ten most popular books in the local lists (0.18).
MIN_OVERLAP = 0.15
SAMPLED_READERS = 100

pytestmark = pytest.mark.spark


def invoke(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> str:
    env = {"VIBESHELF_DATA_DIR": str(data_dir), **(env or {})}
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One local[2] session for the module; the trainer finds it active and leaves it running."""
    require("pyspark")
    from vibeshelf.recommend.spark.session import spark_session

    work_dir = tmp_path_factory.mktemp("spark")
    with spark_session(SparkSettings(master="local[2]"), work_dir) as session:
        yield session


def ratings_dir(root: Path) -> Path:
    """A data dir with the sample's books and its bundled ratings in the interactions store."""
    (root / "catalog").mkdir(parents=True)
    shutil.copy(SAMPLE_PATH, root / "catalog" / "books.parquet")
    invoke(root, "ingest", "interactions", "sample")
    return root


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, spark: object) -> dict[str, Path]:
    """engine -> the model directory it wrote, each in a data dir of its own."""
    dirs = {}
    for engine in ("local", "spark"):
        data_dir = ratings_dir(tmp_path_factory.mktemp(engine))
        output = invoke(data_dir, *TRAIN, "--engine", engine, env=SPARK_ENV)
        assert f"({engine})" in output
        root = recs_root(Settings(data_dir=data_dir))
        dirs[engine] = root / (root / "CURRENT").read_text().strip()
    return dirs


def metadata(model_dir: Path) -> dict:
    return json.loads((model_dir / METADATA_FILE).read_text())


def test_spark_writes_the_same_model_directory(trained: dict[str, Path]) -> None:
    local, spark = trained["local"], trained["spark"]
    assert sorted(p.name for p in spark.iterdir()) == sorted(p.name for p in local.iterdir())
    assert (spark / USERS_FILE).read_text() == (local / USERS_FILE).read_text()
    assert pq.read_table(spark / ITEMS_FILE).equals(pq.read_table(local / ITEMS_FILE))
    seen_local, seen_spark = np.load(local / "seen.npz"), np.load(spark / "seen.npz")
    for key in ("indptr", "indices", "shape"):
        assert np.array_equal(seen_spark[key], seen_local[key])
    meta_local, meta_spark = metadata(local), metadata(spark)
    assert meta_spark.keys() == meta_local.keys()
    for key in ("data_checksum", "counts", "params", "source", "item_space"):
        assert meta_spark[key] == meta_local[key]
    assert meta_local["engine"] == {"name": "local"}
    assert meta_spark["engine"]["name"] == "spark"
    assert meta_spark["engine"]["master"] == "local[2]"
    assert meta_spark["engine"]["reg_param"] > 0
    factors = np.load(spark / "user_factors.npy")
    assert factors.shape == np.load(local / "user_factors.npy").shape
    assert np.abs(factors).sum() > 0


def test_holdout_ndcg_of_both_engines_agrees(trained: dict[str, Path]) -> None:
    local, spark = metadata(trained["local"])["metrics"], metadata(trained["spark"])["metrics"]
    assert spark["als"]["users"] == local["als"]["users"]  # the same holdout split
    assert abs(spark["als"]["ndcg_at_10"] - local["als"]["ndcg_at_10"]) <= NDCG_TOLERANCE
    assert spark["als"]["ndcg_at_10"] > spark["popularity"]["ndcg_at_10"]


def test_served_top10_of_sampled_readers_overlap(trained: dict[str, Path]) -> None:
    services = {
        engine: load_recommender(Settings(data_dir=path.parents[2]))
        for engine, path in trained.items()
    }
    try:
        local = services["local"]
        assert local is not None and services["spark"] is not None
        counts = np.diff(local.model.seen.indptr)
        readers = np.random.default_rng(3).choice(
            np.flatnonzero(counts >= 3), SAMPLED_READERS, replace=False
        )
        popular = {local.model.items.ids[i] for i in np.argsort(-local.model.counts)[:10]}
        overlaps, popular_share = [], []
        for r in readers:
            request = RecommendRequest(user_id=local.model.users[int(r)], cutoff=10)
            answers = [service.recommend(request) for service in services.values()]
            assert [a.strategy for a in answers] == ["als", "als"]
            tops = [{book.book_id for book in a.recommendations} for a in answers]
            assert all(len(top) == 10 for top in tops)
            overlaps.append(len(tops[0] & tops[1]) / 10)
            popular_share.append(len(tops[0] & popular) / 10)
        assert np.mean(overlaps) >= MIN_OVERLAP, np.mean(overlaps)
        assert np.mean(overlaps) > np.mean(popular_share), (overlaps, popular_share)
    finally:
        for service in services.values():
            if service is not None:
                service.close()


def test_bad_spark_options_are_refused(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"VIBESHELF_DATA_DIR": str(tmp_path)}
    for args in (["--engine", "spark", "--spark-master", "nowhere"], ["--spark-master", "local[2]"]):
        result = runner.invoke(app, ["train", "recs", *args], env=env)
        assert result.exit_code == 2, result.output
        assert "master" in result.output
