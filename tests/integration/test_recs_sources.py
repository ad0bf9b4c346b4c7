"""Every candidate source passes the recommender contract on a model trained on the real ratings."""

from __future__ import annotations

import dataclasses
import json
import uuid
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import require
from tests.contracts.recommender import (
    N,
    RecommenderContract,
    active_reader,
    liked_profile,
)
from vibeshelf.cli.app import app
from vibeshelf.config.retrieval import RetrievalSettings
from vibeshelf.index.base import IndexManifest, Records, VectorStore
from vibeshelf.index.hnsw import HnswStore
from vibeshelf.index.pgvector_store import PgVectorStore
from vibeshelf.index.redis_store import RedisStore
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.models.coldstart import shelf_features
from vibeshelf.recommend.neighbours import Content, ItemItem
from vibeshelf.recommend.retrieval import SourceContext, build_retrieval
from vibeshelf.recommend.sources import (
    Als,
    CandidateSource,
    FoldIn,
    Popularity,
    Profile,
    als_top_items,
)
from vibeshelf.recommend.taste import GenrePopular, LikedVectors
from vibeshelf.recommend.twostage.neighbour_table import StoreLikedVectors


@pytest.fixture(scope="module")
def shelf_store(
    recs_model: RecsModel, tmp_path_factory: pytest.TempPathFactory
) -> tuple[HnswStore, np.ndarray]:
    """A real HNSW store over each catalog book's shelf vector (TF-IDF of its shelves)."""
    vectors = shelf_features(recs_model.items.shelves).toarray().astype(np.float32)
    has = np.flatnonzero(vectors.any(axis=1))
    store = HnswStore(tmp_path_factory.mktemp("shelf-index"))
    store.rebuild(
        Records([recs_model.items.ids[i] for i in has], vectors[has], [{} for _ in has]),
        IndexManifest(model_name="shelves", model_version="tfidf", dim=vectors.shape[1]),
    )
    return store, vectors


class TestPopularity(RecommenderContract):
    def make_source(self, model: RecsModel) -> CandidateSource:
        return Popularity(model)


class TestAls(RecommenderContract):
    def make_source(self, model: RecsModel) -> CandidateSource:
        return Als(model)


class TestLiveAls(RecommenderContract):
    """ALS scoring every item at request time, as for a model without precomputed rankings."""

    def make_source(self, model: RecsModel) -> CandidateSource:
        return Als(dataclasses.replace(model, top_items=None))


class TestFoldIn(RecommenderContract):
    def make_source(self, model: RecsModel) -> CandidateSource:
        return FoldIn(model)

    def personal_profile(self, model: RecsModel, reader: str) -> Profile:
        return liked_profile(model, reader)


class TestItemItem(RecommenderContract):
    def make_source(self, model: RecsModel) -> CandidateSource:
        return ItemItem(model)


class TestContent(RecommenderContract):
    @pytest.fixture(autouse=True)
    def _store(self, shelf_store: tuple[HnswStore, np.ndarray], recs_model: RecsModel) -> None:
        self.store, vectors = shelf_store
        self.vectors = {
            item: vectors[i] for i, item in enumerate(recs_model.items.ids) if vectors[i].any()
        }

    def make_source(self, model: RecsModel) -> CandidateSource:
        return Content(model, self.store, self.vectors.get)

    def personal_profile(self, model: RecsModel, reader: str) -> Profile:
        return liked_profile(model, reader, most=3)


class TestLikedVectors(TestContent):
    """The nearest books to the reader's most-liked ones, through a real HNSW vector store."""

    def make_source(self, model: RecsModel) -> CandidateSource:
        return LikedVectors(model, self.store, self.vectors.get, max_anchors=10)

    def personal_profile(self, model: RecsModel, reader: str) -> Profile:
        return Profile(user_id=reader)


class TestStoreLikedVectors(TestContent):
    """The two-stage pipeline's liked-vectors: `width` books per anchor from a real HNSW store."""

    def make_source(self, model: RecsModel) -> CandidateSource:
        return StoreLikedVectors(model, SourceContext(model, self.store, self.vectors.get), 30)

    def personal_profile(self, model: RecsModel, reader: str) -> Profile:
        return Profile(user_id=reader)


def test_served_liked_vectors_score_as_one_knn_per_anchor_does(
    recs_model: RecsModel, shelf_store: tuple[HnswStore, np.ndarray]
) -> None:
    """With rows long enough, the merged rows give what one `knn` per anchor gives: each book's
    best similarity to an anchor, and the same order."""
    store, vectors = shelf_store
    lookup = {item: vectors[i] for i, item in enumerate(recs_model.items.ids) if vectors[i].any()}
    profile = Profile(user_id=active_reader(recs_model, min_items=5))
    per_anchor = LikedVectors(recs_model, store, lookup.get, max_anchors=10).personalised(profile, 20)
    served = StoreLikedVectors(
        recs_model, SourceContext(recs_model, store, lookup.get), width=400
    ).personalised(profile, 20)
    assert per_anchor is not None and served is not None
    assert [c.item_id for c in served.candidates] == [c.item_id for c in per_anchor.candidates]
    assert [c.score for c in served.candidates] == pytest.approx(
        [c.score for c in per_anchor.candidates]
    )


@pytest.mark.parametrize("backend", ["redis", "postgresql"])
def test_served_liked_vectors_run_on_redis_and_pgvector(
    backend: str, request: pytest.FixtureRequest, recs_model: RecsModel, tmp_path: Path
) -> None:
    """The same books (unit ALS item vectors) in a real Redis or PostgreSQL store and in the
    embedded one: the served liked-vectors source proposes alike from both."""
    require("redis" if backend == "redis" else "psycopg")
    url = request.getfixturevalue("redisearch_url" if backend == "redis" else "postgres_url")
    unit, ids = recs_model.unit_items, recs_model.items.ids
    has = np.flatnonzero(unit.any(axis=1))[:2000]
    records = Records([ids[i] for i in has], unit[has], [{} for _ in has])
    manifest = IndexManifest(model_name="als", model_version="test", dim=unit.shape[1])
    name = f"liked_{uuid.uuid4().hex[:8]}"
    server: VectorStore = (
        RedisStore(f"{url}?prefix={name}") if backend == "redis"
        else PgVectorStore(f"{url}?table={name}")
    )
    embedded = HnswStore(tmp_path / "index")
    embedded.rebuild(records, manifest)
    lookup = {ids[i]: unit[i] for i in has}.get
    stored, seen = set(has.tolist()), recs_model.seen
    profile = Profile(user_id=next(
        recs_model.users[u] for u in range(seen.shape[0])
        if len(stored.intersection(seen.indices[seen.indptr[u] : seen.indptr[u + 1]].tolist())) >= 3
    ))
    try:
        server.rebuild(records, manifest)
        found = {
            where: StoreLikedVectors(recs_model, SourceContext(recs_model, store, lookup), 30)
            .personalised(profile, N)
            for where, store in (("server", server), ("embedded", embedded))
        }
    finally:
        server.drop()
    assert found["server"] is not None and found["embedded"] is not None
    on_server = [c.item_id for c in found["server"].candidates]
    assert len(on_server) == N
    assert len(set(on_server) & {c.item_id for c in found["embedded"].candidates}) >= N - 1


class TestGenrePopular(RecommenderContract):
    def make_source(self, model: RecsModel) -> CandidateSource:
        return GenrePopular(model)


def test_retrieval_merges_real_sources_with_their_provenance(
    recs_model: RecsModel, shelf_store: tuple[HnswStore, np.ndarray]
) -> None:
    """Every source of the default settings, the liked-vectors one through a real vector store."""
    store, vectors = shelf_store
    lookup = {item: vectors[i] for i, item in enumerate(recs_model.items.ids) if vectors[i].any()}
    settings = RetrievalSettings()
    retrieval = build_retrieval(settings, SourceContext(recs_model, store, lookup.get))
    assert retrieval.names == list(settings.sources)
    reader = active_reader(recs_model, min_items=5)
    profile = Profile(user_id=reader)
    proposals = retrieval.propose(profile)
    assert 0 < len(proposals) <= settings.total
    ids = [p.item_id for p in proposals]
    assert len(set(ids)) == len(ids)
    read = {recs_model.items.ids[i] for i in recs_model.user_items(recs_model.user_index[reader])}
    assert read.isdisjoint(ids)
    for name, source, n in retrieval.sources:
        result = source.personalised(profile, n)
        assert result is not None, name
        proposed = {p.item_id: p for p in proposals if name in p.ranks}
        ranked = [c.item_id for c in result.candidates]
        assert set(proposed) <= set(ranked), name
        for item, proposal in proposed.items():
            assert ranked[proposal.ranks[name] - 1] == item
            assert proposal.scores[name] == result.candidates[proposal.ranks[name] - 1].score
    assert sum(len(p.ranks) > 1 for p in proposals) > 0  # some books proposed by several sources
    assert retrieval.propose(profile) == proposals


def test_fold_in_of_a_readers_books_agrees_with_their_trained_vector(recs_model: RecsModel) -> None:
    reader = active_reader(recs_model, min_items=10)
    liked = tuple(
        recs_model.items.ids[i] for i in recs_model.user_items(recs_model.user_index[reader])
    )
    als = {c.item_id for c in Als(recs_model).recommend(Profile(user_id=reader), 20).candidates}
    folded = {c.item_id for c in FoldIn(recs_model).recommend(Profile(liked=liked), 20).candidates}
    assert len(als & folded) >= 10


def test_item_item_neighbours_of_a_series_book_share_its_readers(recs_model: RecsModel) -> None:
    """The most-rated linked Harry Potter book: its CF neighbours include another Harry Potter."""
    potter = [
        i
        for i, title in enumerate(recs_model.items.titles)
        if title.startswith("Harry Potter") and recs_model.counts[i] >= 50
    ]
    book = recs_model.items.ids[max(potter, key=lambda i: recs_model.counts[i])]
    result = ItemItem(recs_model).recommend(Profile(liked=(book,)), 10)
    titles = [recs_model.items.titles[recs_model.item_index[c.item_id]] for c in result.candidates]
    assert any("Harry Potter" in t for t in titles), titles
    assert all(c.because == book for c in result.candidates)


def test_content_neighbours_share_shelves(
    recs_model: RecsModel, shelf_store: tuple[HnswStore, np.ndarray]
) -> None:
    store, vectors = shelf_store
    lookup = {item: vectors[i] for i, item in enumerate(recs_model.items.ids)}
    result = Content(recs_model, store, lookup.get).recommend(Profile(liked=("2",)), 5)
    assert result.strategy == "content"
    assert all(c.shared for c in result.candidates)


def test_cold_catalog_books_are_placed_by_their_shelves(recs_model: RecsModel) -> None:
    """A book nobody rated still gets factors (from its shelves) and CF neighbours on its shelves."""
    cold = [
        i
        for i in range(len(recs_model.items))
        if recs_model.counts[i] == 0 and recs_model.items.shelves[i]
    ]
    assert len(cold) > 5_000
    book = recs_model.items.ids[cold[0]]
    assert recs_model.item_factors[cold[0]].any()
    result = ItemItem(recs_model).recommend(Profile(liked=(book,)), 10)
    assert result.strategy == "item-item" and len(result.candidates) == 10
    assert sum(bool(c.shared) for c in result.candidates) >= 8


def ranking(source: CandidateSource, profile: Profile, n: int) -> list[tuple[str, float]]:
    return [(c.item_id, round(c.score, 5)) for c in source.recommend(profile, n).candidates]


def test_precomputed_als_rankings_are_the_live_ones(recs_model: RecsModel) -> None:
    """Served from top_items or scored live, every reader gets the same books in the same order,
    also when more books are excluded than the training ones, and when too few are precomputed."""
    assert recs_model.top_items is not None and recs_model.top_items.shape[1] == 100
    live = Als(dataclasses.replace(recs_model, top_items=None))
    precomputed = Als(recs_model)
    short = Als(dataclasses.replace(recs_model, top_items=als_top_items(recs_model, 5)))
    readers = recs_model.users[::10]
    for reader in readers:
        profile = Profile(user_id=reader)
        for n in (1, 10, 100):
            assert ranking(precomputed, profile, n) == ranking(live, profile, n)
        assert ranking(short, profile, 10) == ranking(live, profile, 10)
        first = ranking(live, profile, 3)
        if first:  # events since training exclude the reader's current top books
            seen = Profile(user_id=reader, seen=frozenset(item for item, _ in first))
            assert ranking(precomputed, seen, 10) == ranking(live, seen, 10)
            assert not {item for item, _ in first} & {i for i, _ in ranking(short, seen, 10)}


def test_eval_recs_candidates_reports_recall_per_source_and_merged(
    recs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`eval recs --candidates` on the real ratings: the merge holds what every source found."""
    monkeypatch.setenv("VIBESHELF_DATA_DIR", str(recs_dir))
    monkeypatch.setenv("VIBESHELF_RECOMMEND__FACTORS", "16")
    monkeypatch.setenv("VIBESHELF_RECOMMEND__ITERATIONS", "4")
    monkeypatch.setenv(
        "VIBESHELF_RECOMMEND__RETRIEVAL",
        json.dumps(
            {
                "sources": {"als": 50, "genre-popular": 50, "popular": 20},
                "total": 100,
                "eval_users": 300,
            }
        ),
    )
    result = CliRunner().invoke(app, ["eval", "recs", "--candidates", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert "popularity baseline" in report["rows"]  # the versions table is still there
    candidates = report["candidates"]
    assert candidates["source"] == "book-crossing-goodbooks"
    assert "300 test users sampled" in candidates["split"]
    rows = {r["name"]: r for r in candidates["rows"]}
    assert list(rows) == [
        "als",
        "genre-popular",
        "popular",
        "merged",
    ]  # no vectors: no liked-vectors
    merged = rows["merged"]
    assert merged["n"] == 100 and merged["proposed"] <= 100 and merged["answered"] == 1.0
    for name in ("als", "genre-popular", "popular"):
        row = rows[name]
        assert 0 < row["recall"] <= row["recall_at_total"] <= 1, row
        assert row["proposed"] <= row["n"]
        assert merged["recall"] >= row["recall"], name
