"""The recommender pipeline on the real shared data: ingest counts, training, reproducibility, evaluation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import run_cli
from tests.contracts.recommender import SHARED_DATA, TEST_RECS
from vibeshelf.cli.app import app
from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.artifacts import (
    METADATA_FILE,
    current_version,
    load_model,
    previous_version,
    recs_root,
)
from vibeshelf.recommend.dataset import load_training_data
from vibeshelf.recommend.evaluation import evaluate_versions, holdout_metrics, holdout_split, tune
from vibeshelf.recommend.interactions.goodreads import ingest_goodreads
from vibeshelf.recommend.storage.sqlite import SqliteStore
from vibeshelf.recommend.training import train_recs
from vibeshelf.settings import Settings


@pytest.fixture(scope="module")
def events_url(recs_dir: Path) -> str:
    return f"sqlite://{recs_dir / 'events.sqlite3'}"


@pytest.fixture
def side_dir(recs_dir: Path, tmp_path: Path) -> Path:
    """A data dir of its own for models, sharing the catalog (read-only) with the built one."""
    (tmp_path / "catalog").symlink_to(recs_dir / "catalog")
    return tmp_path


def test_book_crossing_sources_match_the_data_readme(recs_dir: Path) -> None:
    store = SqliteStore(recs_dir / "events.sqlite3")
    try:
        sources = {s.name: s for s in store.sources()}
    finally:
        store.close()
    linked = sources["book-crossing-goodbooks"]
    assert linked.item_space == "catalog"
    assert 80_000 <= linked.rows <= 82_000  # docs/recommendations.md: about 81k linked
    assert 1_100_000 <= sources["book-crossing"].rows <= 1_149_780


def test_goodreads_file_ingests_whole(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "events.sqlite3")
    try:
        report = ingest_goodreads(SHARED_DATA, store)
        assert report.rows_read == report.rows_kept == 200_000
        assert store.source("goodreads").item_space == "own"
    finally:
        store.close()


def test_linked_training_data_spans_the_catalog(recs_dir: Path, events_url: str) -> None:
    data = load_training_data(
        Settings(data_dir=recs_dir), TEST_RECS.model_copy(update={"events_url": events_url})
    )
    assert data.interactions.shape[1] == 10_000  # every catalog book, most of them cold
    assert 2_800 <= int((data.interactions.item_counts() > 0).sum()) <= 3_000
    assert 20_000 <= data.interactions.shape[0] <= 23_000


def test_training_is_reproducible_and_versioned(side_dir: Path, events_url: str) -> None:
    settings = Settings(data_dir=side_dir)
    rec = TEST_RECS.model_copy(update={"events_url": events_url})
    first = train_recs(settings, rec, evaluate=False)
    second = train_recs(settings, rec, evaluate=False)
    root = recs_root(settings)
    assert first.version != second.version
    assert current_version(root) == second.version
    assert previous_version(root, second.version) == first.version
    a, b = load_model(root, first.version), load_model(root, second.version)
    assert np.array_equal(a.item_factors, b.item_factors)
    assert np.array_equal(a.user_factors, b.user_factors)
    meta = b.metadata
    assert meta["data_checksum"] == a.metadata["data_checksum"]
    assert meta["seed"] == 7 and meta["params"]["factors"] == 16 and meta["created"]
    other = train_recs(settings, rec.model_copy(update={"seed": 8}), evaluate=False)
    assert not np.array_equal(other.item_factors, b.item_factors)


def test_training_with_evaluation_writes_holdout_metrics_and_the_item_index(
    side_dir: Path, events_url: str
) -> None:
    """metadata.json holds the holdout scores of ALS and popularity; the ANN index has every
    item with factors (readers' books and cold books placed by their shelves)."""
    settings = Settings(data_dir=side_dir)
    rec = TEST_RECS.model_copy(update={"events_url": events_url})
    trained = train_recs(settings, rec, evaluate=True)
    root = recs_root(settings)
    metrics = json.loads((root / trained.version / METADATA_FILE).read_text())["metrics"]
    data = load_training_data(settings, rec)
    assert metrics == holdout_metrics(data.interactions, data.items.shelves, rec)
    _, test = holdout_split(data.interactions, rec)
    test_users = int((test.strengths.getnnz(axis=1) > 0).sum())
    for name in ("als", "popularity"):
        scores = metrics[name]
        assert set(scores) == {"hr_at_10", "ndcg_at_10", "recall_at_50", "coverage_at_10", "users"}
        assert scores["users"] == test_users > 0
        assert 0.0 < scores["ndcg_at_10"] <= scores["hr_at_10"] <= 1.0
    assert metrics["als"]["ndcg_at_10"] > metrics["popularity"]["ndcg_at_10"]
    model = load_model(root)
    with_factors = int((np.linalg.norm(model.item_factors, axis=1) > 0).sum())
    warm = int((model.counts > 0).sum())
    assert model.ann is not None and model.ann.count() == with_factors > warm
    assert model.ann.manifest.model_version == model.version
    assert model.ann.manifest.catalog_checksum == model.metadata["data_checksum"]
    assert model.ann.knn(model.unit_items[model.item_index["2"]], 1)[0].id == "2"


def test_eval_compares_current_with_previous(side_dir: Path, events_url: str) -> None:
    settings = Settings(data_dir=side_dir)
    rec = TEST_RECS.model_copy(update={"events_url": events_url})
    train_recs(settings, rec.model_copy(update={"factors": 8, "iterations": 3}), evaluate=False)
    train_recs(settings, rec, evaluate=False)
    evaluation = evaluate_versions(settings, rec)
    labels = list(evaluation.rows)
    assert labels[0] == "popularity baseline"
    assert labels[1].endswith("(current)") and labels[2].endswith("(previous)")
    assert any(v.startswith("better: ") for v in evaluation.verdicts)
    assert "NDCG@10" in evaluation.table() and "| popularity baseline |" in evaluation.table()
    assert json.loads(json.dumps(evaluation.to_dict()))["rows"]


def test_tuned_defaults_beat_popularity_by_the_target(recs_dir: Path, events_url: str) -> None:
    rec = RecommendSettings(events_url=events_url)
    data = load_training_data(Settings(data_dir=recs_dir), rec)
    scores = holdout_metrics(data.interactions, data.items.shelves, rec)
    als, popular = scores["als"], scores["popularity"]
    assert als["ndcg_at_10"] >= 1.2 * popular["ndcg_at_10"]
    assert als["hr_at_10"] > popular["hr_at_10"]
    assert als["coverage_at_10"] > popular["coverage_at_10"]


def test_cli_eval_and_train_errors(
    recs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.setenv("VIBESHELF_DATA_DIR", str(recs_dir))
    result = runner.invoke(app, ["eval", "recs", "--json"])
    assert result.exit_code == 0, result.output
    assert "popularity baseline" in result.output
    monkeypatch.setenv("VIBESHELF_DATA_DIR", str(tmp_path / "empty"))
    result = runner.invoke(app, ["train", "recs"])
    assert result.exit_code == 2
    assert "vibeshelf ingest interactions" in result.output
    for group in ("train", "eval"):
        help_text = runner.invoke(app, [group, "recs", "--help"]).output
        assert "Usage" in help_text and len(help_text.splitlines()) > 4


def test_tuning_scores_grid_points_on_the_validation_split(recs_dir: Path, events_url: str) -> None:
    rec = TEST_RECS.model_copy(update={"events_url": events_url})
    data = load_training_data(Settings(data_dir=recs_dir), rec)
    results = tune(data.interactions, data.items.shelves, rec, grid={"factors": [4, 16]})
    assert [p for p, _ in results] in (
        [{"factors": 16}, {"factors": 4}],
        [{"factors": 4}, {"factors": 16}],
    )
    assert results[0][1].ndcg_at_10 >= results[1][1].ndcg_at_10
    _, test = holdout_split(data.interactions, rec)
    test_users = int((test.strengths.getnnz(axis=1) > 0).sum())
    assert results[0][1].users < test_users  # validation users come from the training part only


def test_reuse_keeps_a_model_fitted_on_the_same_data_and_settings(recs_dir: Path, tmp_path: Path) -> None:
    """`train recs --reuse` (what the demo runs) keeps an identical current version; another seed,
    or training without --reuse, writes a new one."""
    data_dir = tmp_path / "data"
    shutil.copytree(recs_dir, data_dir)
    current = data_dir / "models" / "recs" / "CURRENT"
    fit = ("train", "recs", "--factors", "8", "--no-eval")
    run_cli(*fit, data_dir=data_dir)
    first = current.read_text()
    kept = run_cli(*fit, "--reuse", data_dir=data_dir)
    assert current.read_text() == first and f"kept {first}" in kept.stdout
    run_cli(*fit, "--reuse", "--seed", "5", data_dir=data_dir)
    assert current.read_text() != first
    second = current.read_text()
    run_cli("train", "recs", "--factors", "8", "--no-eval", "--seed", "5", data_dir=data_dir)
    assert current.read_text() not in (first, second)
