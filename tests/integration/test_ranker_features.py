"""The ranker's features from Feast: training (historical) and serving (online) give the same matrix."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import require, run_cli
from tests.contracts.recommender import active_reader
from vibeshelf.config.features import FeatureStoreSettings
from vibeshelf.config.retrieval import RetrievalSettings
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.features.definitions import GENRE_COLUMNS
from vibeshelf.recommend.features.repo import FeatureRepo
from vibeshelf.recommend.retrieval import SourceContext
from vibeshelf.recommend.sources import Profile
from vibeshelf.recommend.twostage.candidates import CandidateStage, candidate_stage
from vibeshelf.recommend.twostage.features import feature_names
from vibeshelf.recommend.twostage.served_features import (
    FeaturesNotMaterializedError,
    FeatureStoreUnavailableError,
    StoreFeatures,
)
from vibeshelf.recommend.twostage.training_features import HistoricalFeatures
from vibeshelf.settings import Settings

RETRIEVAL = RetrievalSettings(
    sources={"als": 50, "item-item": 50, "genre-popular": 30, "popular": 20}, total=120
)
SOURCES = ["als", "item-item", "genre-popular", "popular"]


@pytest.fixture(scope="module")
def data_dir(
    recs_dir: Path, sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A copy of the recommender data dir, with the sample's book vectors, its feature store
    materialized by the CLI."""
    target = tmp_path_factory.mktemp("ranker-features") / "data"
    shutil.copytree(recs_dir, target)
    shutil.copytree(sample_data_dir / "embeddings", target / "embeddings")
    run_cli("features", "materialize", data_dir=target)
    return target


@pytest.fixture(scope="module")
def repo(data_dir: Path) -> FeatureRepo:
    settings = Settings(data_dir=data_dir)
    return FeatureRepo(settings.features_dir, settings.recommend.feature_store)


@pytest.fixture(scope="module")
def stage(recs_model: RecsModel) -> CandidateStage:
    return candidate_stage(RETRIEVAL, SourceContext(recs_model), 50)


@pytest.fixture(scope="module")
def served(repo: FeatureRepo, recs_model: RecsModel) -> StoreFeatures:
    return StoreFeatures(repo, recs_model, SOURCES)


def _stored(repo: FeatureRepo, view: str, key: str, value: str) -> pd.Series:
    frame = pd.read_parquet(repo.sources_dir / f"{view}.parquet")
    return frame.set_index(key).loc[value]


def test_training_and_serving_give_the_ranker_the_same_matrix(
    repo: FeatureRepo, served: StoreFeatures, stage: CandidateStage, recs_model: RecsModel
) -> None:
    """The same (reader, book) pairs through get_historical_features and get_online_features,
    each with the on-demand function, give identical ranker rows."""
    reader = active_reader(recs_model)
    proposals = stage(Profile(user_id=reader))
    trained = HistoricalFeatures(repo.open(), SOURCES).frame([(reader, proposals)])
    serving = served(Profile(user_id=reader), proposals)
    assert list(serving.columns) == ["user_id", "item_id", *feature_names(SOURCES)]
    pd.testing.assert_frame_equal(trained, serving, check_exact=True)
    assert not serving[feature_names(SOURCES)].isna().any().any()
    assert serving["taste_cosine"].nunique() > 1 and serving["book_readers"].nunique() > 1


def test_rows_follow_the_stored_views_and_the_on_demand_definitions(
    repo: FeatureRepo, served: StoreFeatures, stage: CandidateStage, recs_model: RecsModel
) -> None:
    reader = active_reader(recs_model)
    proposals = stage(Profile(user_id=reader))
    frame = served(Profile(user_id=reader), proposals)
    first, book = proposals[0], frame.iloc[0]
    stored_book = _stored(repo, "books", "item_id", first.item_id)
    stored_reader = _stored(repo, "readers", "user_id", reader)
    assert book.book_readers == stored_book.book_readers and book.book_year == stored_book.book_year
    assert book.reader_history_size == stored_reader.reader_history_size
    assert book.als_rank == first.ranks["als"] == 1 and book.als_score == first.scores["als"]
    unproposed = next(i for i, p in enumerate(proposals) if "popular" not in p.ranks)
    assert frame.popular_rank.iloc[unproposed] == 10_000 and frame.popular_score.iloc[unproposed] == 0
    assert book.sources_proposing == len(first.ranks)
    genres = stored_book[list(GENRE_COLUMNS)].to_numpy(float)
    shares = stored_reader[[c.replace("genre_", "affinity_") for c in GENRE_COLUMNS]].to_numpy(float)
    assert book.genre_overlap == pytest.approx(genres @ shares / max(genres.sum(), 1))
    books = pd.read_parquet(repo.sources_dir / "books.parquet").set_index("item_id")
    text_columns = [f"text_{i}" for i in range(8)]
    taste = stored_reader[[f"taste_{i}" for i in range(8)]].to_numpy(float)
    at = next(i for i, p in enumerate(proposals) if books.loc[p.item_id, text_columns].any())
    text = books.loc[proposals[at].item_id, text_columns].to_numpy(float)
    cosine = text @ taste / (np.linalg.norm(text) * np.linalg.norm(taste))
    assert frame.taste_cosine.iloc[at] == pytest.approx(cosine) and cosine != 0


def test_a_liked_list_gets_the_reader_row_from_its_books(
    repo: FeatureRepo, served: StoreFeatures, stage: CandidateStage, recs_model: RecsModel
) -> None:
    """A reader the store does not hold: the reader view's row computed from the liked books."""
    user = recs_model.user_index[active_reader(recs_model, min_items=8)]
    liked = tuple(recs_model.items.ids[i] for i in recs_model.user_items(user)[:6])
    proposals = stage(Profile(liked=liked))
    frame = served(Profile(liked=liked), proposals)
    books = pd.read_parquet(repo.sources_dir / "books.parquet").set_index("item_id").loc[list(liked)]
    assert (frame.reader_history_size == len(liked)).all()
    for genre in GENRE_COLUMNS:
        share = genre.replace("genre_", "affinity_")
        assert frame[share].iloc[0] == pytest.approx(books[genre].mean())
    assert (frame.genre_overlap > 0).any()
    nobody = served(Profile(user_id="nobody"), proposals[:3])
    assert (nobody.reader_history_size == 0).all() and (nobody.genre_overlap == 0).all()


def test_a_new_materialization_is_read_without_a_restart(
    data_dir: Path, served: StoreFeatures
) -> None:
    assert served.refresh() is False  # nothing changed since the books were read
    before = served.books.copy()
    run_cli("features", "materialize", data_dir=data_dir)
    assert served.refresh() is True
    np.testing.assert_array_equal(served.books, before)  # same data, read again
    assert served.refresh() is False


def test_serving_without_materialized_features_is_refused(
    recs_dir: Path, recs_model: RecsModel, tmp_path: Path
) -> None:
    repo = FeatureRepo(tmp_path / "features", FeatureStoreSettings())
    with pytest.raises(FileNotFoundError, match="features apply"):
        StoreFeatures(repo, recs_model, SOURCES)
    repo.apply()
    with pytest.raises(FeaturesNotMaterializedError, match="features materialize"):
        StoreFeatures(repo, recs_model, SOURCES)


def test_redis_online_store_gives_the_same_matrix(
    data_dir: Path, served: StoreFeatures, stage: CandidateStage, recs_model: RecsModel,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    require("redis")
    from tests.redis_server import redis_server

    reader = active_reader(recs_model)
    proposals = stage(Profile(user_id=reader))
    on_redis = tmp_path_factory.mktemp("features-redis")
    for part in ("catalog", "embeddings"):
        shutil.copytree(data_dir / part, on_redis / part)
    shutil.copy(data_dir / "events.sqlite3", on_redis / "events.sqlite3")
    with redis_server(tmp_path_factory.mktemp("valkey")) as url:
        run_cli("features", "materialize", data_dir=on_redis,
                env={"VIBESHELF_RECOMMEND__FEATURE_STORE__URL": url})
        repo = FeatureRepo(Settings(data_dir=on_redis).features_dir, FeatureStoreSettings(url=url))
        on_valkey = StoreFeatures(repo, recs_model, SOURCES)
        frame = on_valkey(Profile(user_id=reader), proposals)
    pd.testing.assert_frame_equal(frame, served(Profile(user_id=reader), proposals), check_exact=True)
    # Valkey has stopped: a request's reader row and a new load both say the store is down.
    with pytest.raises(FeatureStoreUnavailableError):
        on_valkey(Profile(user_id=reader), proposals)
    with pytest.raises(FeatureStoreUnavailableError):
        StoreFeatures(repo, recs_model, SOURCES)
