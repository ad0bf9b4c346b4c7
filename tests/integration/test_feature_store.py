"""The Feast feature store on the sample data dir: the CLI, training-serving parity, bad input."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import require, run_cli
from vibeshelf.config.features import FeatureStoreSettings
from vibeshelf.recommend.features.client import FeatureStoreClient
from vibeshelf.recommend.features.repo import FeatureRepo
from vibeshelf.settings import Settings

SOURCE = "book-crossing-goodbooks"  # what the sample ingests


@pytest.fixture(scope="module")
def features_dir(sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample's catalog, vectors and interactions, its features materialized by the CLI."""
    data_dir = tmp_path_factory.mktemp("features-data")
    for part in ("catalog", "embeddings"):
        shutil.copytree(sample_data_dir / part, data_dir / part)
    shutil.copy(sample_data_dir / "events.sqlite3", data_dir / "events.sqlite3")
    applied = run_cli("features", "apply", data_dir=data_dir)
    assert "69 features, online store sqlite" in applied.stdout
    loaded = run_cli("features", "materialize", data_dir=data_dir)
    assert loaded.stdout.count("\n") == 1, loaded.stdout  # one summary line, Feast kept quiet
    assert "features of 3,000 books" in loaded.stdout
    return data_dir


@pytest.fixture(scope="module")
def client(features_dir: Path) -> FeatureStoreClient:
    settings = Settings(data_dir=features_dir)
    return FeatureStoreClient(FeatureRepo(settings.features_dir, settings.recommend.feature_store))


def _reader_history(data_dir: Path) -> tuple[str, list[str]]:
    """The sample reader with the most books, and those books."""
    with sqlite3.connect(data_dir / "events.sqlite3") as db:
        (user,) = db.execute(
            "SELECT user_id FROM interactions WHERE source = ? GROUP BY user_id "
            "ORDER BY count(*) DESC, user_id LIMIT 1", (SOURCE,),
        ).fetchone()
        books = [r[0] for r in db.execute(
            "SELECT DISTINCT item_id FROM interactions WHERE source = ? AND user_id = ?",
            (SOURCE, user),
        )]
    return user, books


def test_materialize_writes_the_repo_and_parquet_sources(features_dir: Path) -> None:
    root = Settings(data_dir=features_dir).features_dir
    for name in ("feature_store.yaml", "definitions.py", "registry.db", "online.sqlite3"):
        assert (root / name).is_file(), name
    books = pd.read_parquet(root / "sources" / "books.parquet")
    assert len(books) == 3000 and books["item_id"].is_unique
    assert books["book_has_description"].between(0, 1).all()
    assert books[[f"text_{i}" for i in range(8)]].abs().sum(axis=1).gt(0).mean() > 0.99


def test_training_and_serving_give_the_same_features(
    client: FeatureStoreClient, features_dir: Path
) -> None:
    user, history = _reader_history(features_dir)
    books = pd.read_parquet(Settings(data_dir=features_dir).features_dir / "sources" / "books.parquet")
    unread = [b for b in books["item_id"] if b not in set(history)][:3]
    items = [*history[:3], *unread]
    request = {
        "score_als": [0.9, None, 0.4, 0.3, None, 0.1],
        "rank_als": [1, None, 3, 4, None, 9],
        "score_vector": [None, 0.8, None, None, 0.7, None],
        "rank_vector": [None, 1, None, None, 2, None],
    }
    entity_df = pd.DataFrame({"user_id": user, "item_id": items, "label": [1, 1, 1, 0, 0, 0], **request})
    trained = client.training_frame(entity_df)
    served = client.serving_frame(user, items, request)

    assert list(trained.columns) == ["user_id", "item_id", "label", *request, *client.feature_names]
    assert list(served.columns) == ["user_id", "item_id", *client.feature_names]
    assert trained["item_id"].tolist() == items
    pd.testing.assert_frame_equal(
        trained[client.feature_names], served[client.feature_names], check_exact=True
    )
    row = served.set_index("item_id")
    assert (row["reader_history_size"] == len(history)).all()
    assert row.loc[items[1], "als_score"] == 0 and row.loc[items[1], "als_rank"] == 10_000
    assert row.loc[items[1], "vector_score"] == 0.8 and row.loc[items[1], "sources_proposing"] == 1
    assert row["two_tower_rank"].eq(10_000).all()  # a configured source given no data
    assert row["taste_cosine"].between(-1, 1).all() and row["taste_cosine"].nunique() > 1
    assert np.isfinite(served[client.feature_names].to_numpy()).all()


def test_training_rows_before_the_features_existed_get_none(
    client: FeatureStoreClient, features_dir: Path
) -> None:
    """Point in time: a row stamped before the materialization sees no book or reader values."""
    user, history = _reader_history(features_dir)
    now = datetime.now(UTC)
    rows = client.training_frame(pd.DataFrame({
        "user_id": [user, user, "nobody"], "item_id": [history[0]] * 3,
        "event_timestamp": [now - timedelta(days=365), now, now],
    }))
    assert rows["event_timestamp"].tolist() == [now - timedelta(days=365), now, now]
    assert rows.loc[0, client.feature_names].isna().all()
    assert rows.loc[1, "book_readers"] >= 1 and rows.loc[1, "reader_history_size"] == len(history)
    assert np.isnan(rows.loc[2, "reader_history_size"]) and rows.loc[2, "book_readers"] >= 1


def test_serving_refuses_unknown_request_fields(client: FeatureStoreClient) -> None:
    with pytest.raises(ValueError, match="unknown request fields"):
        client.serving_frame("u", ["1"], {"score_nope": [1.0]})
    with pytest.raises(ValueError, match="1 books"):
        client.serving_frame("u", ["1"], {"score_als": [1.0, 2.0]})


def test_materialize_without_interactions_fails_clearly(sample_data_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(sample_data_dir / "catalog", tmp_path / "catalog")
    result = run_cli("features", "materialize", data_dir=tmp_path, check=False)
    assert result.returncode == 2
    assert "no interactions ingested" in result.stderr and "Traceback" not in result.stderr


def test_bad_feature_store_url_is_refused(tmp_path: Path) -> None:
    result = run_cli(
        "features", "apply", data_dir=tmp_path, check=False,
        env={"VIBESHELF_RECOMMEND__FEATURE_STORE__URL": "mongodb://db"},
    )
    assert result.returncode == 2 and "unsupported feature store URL scheme" in result.stderr


def test_redis_online_store_serves_what_sqlite_serves(
    features_dir: Path, client: FeatureStoreClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    require("redis")
    from tests.redis_server import redis_server

    data_dir = tmp_path_factory.mktemp("features-redis")
    for part in ("catalog", "embeddings"):
        shutil.copytree(features_dir / part, data_dir / part)
    shutil.copy(features_dir / "events.sqlite3", data_dir / "events.sqlite3")
    user, history = _reader_history(features_dir)
    items = history[:4]
    with redis_server(tmp_path_factory.mktemp("valkey")) as url:
        run_cli("features", "materialize", data_dir=data_dir,
                env={"VIBESHELF_RECOMMEND__FEATURE_STORE__URL": url})
        settings = FeatureStoreSettings(url=url)
        on_redis = FeatureStoreClient(FeatureRepo(Settings(data_dir=data_dir).features_dir, settings))
        served = on_redis.serving_frame(user, items, {"score_als": [0.5, None, 0.2, None]})
    expected = client.serving_frame(user, items, {"score_als": [0.5, None, 0.2, None]})
    pd.testing.assert_frame_equal(served, expected, check_exact=True)
    assert served["book_readers"].gt(0).all()
