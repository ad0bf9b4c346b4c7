"""The two-tower source on a model trained in the test on the real catalog-linked ratings: the
candidate-source contract, books nobody read, serving without torch, and the item vectors in a
collection of their own on real Redis and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, require
from tests.contracts.recommender import TEST_RECS, RecommenderContract, active_reader
from vibeshelf.config.two_tower import TwoTowerSettings
from vibeshelf.index.base import Records, VectorStore
from vibeshelf.index.factory import open_store
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.dataset import load_training_data
from vibeshelf.recommend.models.coldstart import shelf_features
from vibeshelf.recommend.sources import CandidateSource, Profile
from vibeshelf.recommend.two_tower.artifacts import TwoTowerModel, load_two_tower, write_two_tower
from vibeshelf.recommend.two_tower.features import history_weights, item_inputs
from vibeshelf.recommend.two_tower.source import TwoTower
from vibeshelf.recommend.two_tower.store import item_vector_store, publish_item_vectors
from vibeshelf.settings import Settings

pytestmark = pytest.mark.torch

PARAMS = TwoTowerSettings(dim=16, hidden=32, epochs=2, batch_size=512, seed=5)
COLLECTION = "two_tower_items"
N = 10


@pytest.fixture(scope="module")
def tower_dir(recs_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding a two-tower version trained on recs_dir's ratings, and its collection.

    recs_dir has no sentence vectors: each book's shelf TF-IDF stands in for its text vector.
    """
    require("torch", "onnx")
    from vibeshelf.recommend.models.two_tower_train import (
        export_user_tower,
        fit_two_tower,
        item_vectors,
    )

    data = load_training_data(Settings(data_dir=recs_dir), TEST_RECS)
    shelves = shelf_features(data.items.genres).toarray().astype(np.float32)
    inputs = item_inputs(
        data.items.ids, data.items.ids, shelves, Settings(data_dir=recs_dir).books_path
    )
    history = history_weights(data.interactions.strengths, PARAMS.implicit_weight)
    net = fit_two_tower(history, inputs.content, PARAMS)
    vectors = item_vectors(net)
    out = tmp_path_factory.mktemp("two-tower-data")
    write_two_tower(
        out / "models" / "two-tower",
        "v1",
        lambda path: export_user_tower(net, path),
        vectors,
        inputs.ids,
        data.interactions.users,
        history,
        {"version": "v1"},
    )
    publish_item_vectors(
        item_vector_store(Settings(data_dir=out), COLLECTION, load=False), inputs.ids, vectors, "v1"
    )
    return out


@pytest.fixture(scope="module")
def tower(tower_dir: Path) -> TwoTowerModel:
    return load_two_tower(tower_dir / "models" / "two-tower")


@pytest.fixture(scope="module")
def hnsw_items(tower_dir: Path) -> VectorStore:
    return item_vector_store(Settings(data_dir=tower_dir), COLLECTION)


class TestTwoTower(RecommenderContract):
    @pytest.fixture(autouse=True)
    def _tower(self, tower: TwoTowerModel, hnsw_items: VectorStore) -> None:
        self.tower, self.store = tower, hnsw_items

    def make_source(self, model: RecsModel) -> CandidateSource:
        return TwoTower(model, self.tower, self.store)


def test_a_liked_list_is_personalised_and_explained(
    recs_model: RecsModel, tower: TwoTowerModel, hnsw_items: VectorStore
) -> None:
    reader = active_reader(recs_model)
    liked = tuple(
        recs_model.items.ids[i] for i in recs_model.user_items(recs_model.user_index[reader])
    )
    result = TwoTower(recs_model, tower, hnsw_items).recommend(Profile(liked=liked), N)
    assert result.strategy == "two-tower" and len(result.candidates) == N
    assert not {c.item_id for c in result.candidates} & set(liked)
    assert all(c.because in liked for c in result.candidates)


def test_books_nobody_read_are_retrieved(
    recs_model: RecsModel, tower: TwoTowerModel, hnsw_items: VectorStore
) -> None:
    """Most catalog books have no Book-Crossing reader; the item tower still places them."""
    cold = {recs_model.items.ids[i] for i in np.flatnonzero(recs_model.counts == 0)}
    assert len(cold) > 5_000
    source = TwoTower(recs_model, tower, hnsw_items)
    reader = active_reader(recs_model)
    ids = {c.item_id for c in source.recommend(Profile(user_id=reader), 200).candidates}
    assert ids & cold


def test_serving_needs_no_torch(recs_dir: Path, tower_dir: Path) -> None:
    """The source loads and answers in a process where importing torch fails."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["torch"] = None  # any import of torch now raises ImportError
        from vibeshelf.recommend.artifacts import load_model, recs_root
        from vibeshelf.recommend.sources import Profile
        from vibeshelf.recommend.two_tower.artifacts import load_two_tower
        from vibeshelf.recommend.two_tower.source import TwoTower
        from vibeshelf.recommend.two_tower.store import item_vector_store
        from vibeshelf.settings import Settings
        from tests.contracts.recommender import active_reader

        model = load_model(recs_root(Settings(data_dir={str(recs_dir)!r})))
        settings = Settings(data_dir={str(tower_dir)!r})
        tower = load_two_tower(settings.models_dir / "two-tower")
        source = TwoTower(model, tower, item_vector_store(settings, {COLLECTION!r}))
        result = source.recommend(Profile(user_id=active_reader(model)), 5)
        print(result.strategy, len(result.candidates))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["two-tower", "5"]


@pytest.mark.parametrize("backend", ["redis", "postgresql"])
def test_item_vectors_in_a_server_collection_of_their_own(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    recs_model: RecsModel,
    tower: TwoTowerModel,
    hnsw_items: VectorStore,
) -> None:
    """Upserted and queried on a real server, beside (not into) the search index's collection;
    the source answers there as it does on the embedded store."""
    require("redis" if backend == "redis" else "psycopg")
    url = request.getfixturevalue("redisearch_url" if backend == "redis" else "postgres_url")
    settings = Settings(data_dir=tmp_path, store={"url": url})
    store = item_vector_store(settings, COLLECTION, load=False)
    try:
        publish_item_vectors(store, tower.items[:100], tower.item_vectors[:100], "v1")
        store.upsert(_records(tower, slice(100, None)))
        assert store.count() == len(tower.items)
        assert open_store(settings).count() == 0  # the search index's collection is untouched
        hit = store.knn(tower.item_vectors[7], 1)[0]
        assert hit.id == tower.items[7] and hit.similarity == pytest.approx(1.0, abs=1e-4)
        profile = Profile(user_id=active_reader(recs_model))
        on_server = TwoTower(recs_model, tower, store).recommend(profile, N).candidates
        embedded = TwoTower(recs_model, tower, hnsw_items).recommend(profile, N).candidates
        assert len({c.item_id for c in on_server} & {c.item_id for c in embedded}) >= N - 1
    finally:
        store.drop()


def _records(tower: TwoTowerModel, rows: slice) -> Records:
    ids = tower.items[rows]
    return Records(ids, tower.item_vectors[rows], [{} for _ in ids])
