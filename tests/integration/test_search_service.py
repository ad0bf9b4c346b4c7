"""The search pipeline on the real sample index: filters, ranking, de-duplication, logging."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import subprocess
import sys
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, run_cli
from vibeshelf.catalog.books import BookCatalog
from vibeshelf.catalog.custom import FIELDS
from vibeshelf.catalog.schema import ARROW_SCHEMA, read_books
from vibeshelf.catalog.series import title_key
from vibeshelf.catalog.shelves import shelf_phrase
from vibeshelf.embed.vectors import EmbeddingSet, embeddings_path, load_embeddings
from vibeshelf.index.filters import Filter
from vibeshelf.search.query import QueryError
from vibeshelf.search.rerank import CONSENSUS_DEPTH, FEATURES
from vibeshelf.search.schemas import Mode, SearchParams
from vibeshelf.search.service import SearchService
from vibeshelf.serve.runtime import Runtime, description_vectors
from vibeshelf.settings import Settings


@pytest.fixture(scope="module")
def runtime(sample_data_dir: Path) -> Runtime:
    settings = Settings(data_dir=sample_data_dir)
    settings.serve.query_log = False
    return Runtime.load(settings)


def search(runtime: Runtime, **kwargs: object):  # type: ignore[no-untyped-def]
    return runtime.search.search(SearchParams(**kwargs)).results  # type: ignore[arg-type]


def test_vector_results_are_in_rank_order_with_similarity_dominating(runtime: Runtime) -> None:
    results = search(runtime, q="sprawling multi-generational family saga", limit=30, mode="vector")
    assert len(results) == 30
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    weight = runtime.settings.search.popularity_weight
    for a, b in pairwise(results):
        assert a.similarity > b.similarity - weight - 1e-6


def test_hybrid_scores_stay_in_order_below_the_rerank_depth(runtime: Runtime) -> None:
    """Past the reranked head the fused order goes on, its scores under the reranked ones."""
    shallow = runtime.search.with_settings(runtime.settings.search.model_copy(update={"rerank_depth": 5}))
    for q in ("cozy village mystery", "dragons", "grief and healing after a loss"):
        response = shallow.search(SearchParams(q=q, mode="hybrid", limit=30))
        assert response.reranked
        scores = [r.score for r in response.results]
        assert len(scores) == 30
        assert scores == sorted(scores, reverse=True), (q, scores)


def test_filters_hold_on_every_result(runtime: Runtime) -> None:
    results = search(runtime, q="magic school", shelves=["fantasy"], year_min=1995,
                     year_max=2005, min_rating=4.0, language="eng", limit=50)
    assert results
    for r in results:
        book = runtime.catalog.get(r.book_id)
        assert "fantasy" in book.shelves
        assert 1995 <= book.year <= 2005
        assert book.average_rating >= 4.0
        assert book.language == "eng"


EDITIONS_QUERY = "the lord of the rings"


@pytest.fixture(scope="module")
def editions(
    runtime: Runtime, sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Runtime, list[set[str]]]]:
    """The sample plus an edition of each of its two best matches for EDITIONS_QUERY, ingested,
    embedded and indexed by the CLI: of the first, one of the same work under another title; of
    the second, one with the same title and first author under another work id. Returns the
    runtime and each pair of ids."""
    best = [r.book_id for r in search(runtime, q=EDITIONS_QUERY, limit=2, mode="vector")]
    data_dir = tmp_path_factory.mktemp("editions")
    shutil.copytree(sample_data_dir / "embeddings", data_dir / "embeddings")  # reused by hash
    rows = read_books(sample_data_dir / "catalog" / "books.parquet").to_pylist()
    first, second = (next(r for r in rows if r["book_id"] == book_id) for book_id in best)
    assert first["work_id"] and second["authors"]
    rows += [
        {**first, "book_id": "same-work", "title": f"{first['title']}: Anniversary Edition"},
        {**second, "book_id": "same-title", "work_id": "another-work"},
    ]
    edited = data_dir / "edited.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=ARROW_SCHEMA), edited)
    run_cli("ingest", "file", str(edited), *(f"--map={f}={f}" for f in FIELDS), data_dir=data_dir)
    run_cli("embed", data_dir=data_dir)
    run_cli("index", data_dir=data_dir)
    settings = Settings(data_dir=data_dir)
    settings.serve.query_log = False
    loaded = Runtime.load(settings)
    yield loaded, [{best[0], "same-work"}, {best[1], "same-title"}]
    loaded.close()


@pytest.mark.parametrize("mode", ["vector", "lexical", "hybrid"])
def test_no_two_results_are_editions_of_one_work(
    editions: tuple[Runtime, list[set[str]]], mode: Mode
) -> None:
    runtime, pairs = editions
    found = runtime.search.retrieve(EDITIONS_QUERY, mode, Filter.of(), 100)
    candidates = set(found.vector_ids) | set(found.lexical_ids)
    results = search(runtime, q=EDITIONS_QUERY, limit=50, mode=mode)
    for pair in pairs:
        assert pair <= candidates  # both editions were retrieved ...
        assert len([r for r in results if r.book_id in pair]) == 1  # ... one was kept
    works = [runtime.catalog.get(r.book_id).work_id for r in results]
    titles = [title_key(r.title, r.authors[0]) for r in results]
    assert len(set(works)) == len(works)
    assert len(set(titles)) == len(titles)


SERVE_AND_LIST_MODULES = """
import json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from vibeshelf.serve.app import create_app
from vibeshelf.settings import Settings

settings = Settings(data_dir=Path(sys.argv[1]), auth={"enabled": False})
settings.serve.query_log = False
with TestClient(create_app(settings)) as client:
    response = client.get("/api/search", params={"q": "cozy small-town mystery with a cat"})
    vector = client.app.state.services.runtime.encoder.encode(["funny sci-fi"])
print(json.dumps({"status": response.status_code, "results": len(response.json()["results"]),
                  "dim": vector.shape[1], "modules": sorted(sys.modules)}))
"""


def test_serving_never_imports_torch(sample_data_dir: Path) -> None:
    """The app, its runtime, a query's encoding and a search run without torch being imported."""
    proc = subprocess.run(
        [sys.executable, "-c", SERVE_AND_LIST_MODULES, str(sample_data_dir)], cwd=REPO,
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    served = json.loads(proc.stdout.strip().splitlines()[-1])
    assert served["status"] == 200 and served["results"] > 0 and served["dim"] == 384
    loaded = set(served["modules"])
    assert "vibeshelf.serve.runtime" in loaded and "onnxruntime" in loaded
    assert not loaded & {"torch", "transformers", "sentence_transformers"}


def test_long_query_is_truncated_not_rejected(runtime: Runtime) -> None:
    response = runtime.search.search(SearchParams(q="a lonely lighthouse keeper " * 100))
    assert response.truncated
    assert len(response.query) <= runtime.settings.search.max_query_chars
    assert response.results


def test_empty_query_raises(runtime: Runtime) -> None:
    with pytest.raises(QueryError):
        runtime.search.search(SearchParams(q=" \n "))


def test_cli_search_prints_results_and_rejects_empty_queries(sample_data_dir: Path) -> None:
    out = run_cli("search", "funny sci-fi", "--limit", "3", data_dir=sample_data_dir)
    assert len(out.stdout.strip().splitlines()) == 3
    bad = run_cli("search", "   ", data_dir=sample_data_dir, check=False)
    assert bad.returncode == 2
    assert "empty" in bad.stderr


def test_the_description_feature_is_the_cosine_to_the_books_own_description(
    runtime: Runtime, sample_data_dir: Path
) -> None:
    """Every sample book has a description, so a service is also built without three of them."""
    settings = Settings(data_dir=sample_data_dir)
    found = runtime.search.retrieve("a haunted house and a family's secrets", "hybrid", Filter(), 50)
    assert found.vector is not None
    ids = list(dict.fromkeys(found.vector_ids + found.lexical_ids))
    full = load_embeddings(settings.embeddings_dir, settings.model.name, "description")
    keep = [row for row, book_id in enumerate(full.ids) if book_id not in ids[:3]]
    partial = EmbeddingSet([full.ids[r] for r in keep], full.vectors[keep], full.manifest)
    search = runtime.search
    without_three = SearchService(
        search.encoder, search.store, search.catalog, search.settings, None, search.lexical,
        search.reranker, partial,
    )
    for service, descriptions in ((search, full), (without_three, partial)):
        vectors = dict(zip(descriptions.ids, descriptions.vectors, strict=True))
        expected = [float(vectors[i] @ found.vector) if i in vectors else 0.0 for i in ids]
        column = service.features(found, ids)[:, FEATURES.index("description")]
        np.testing.assert_allclose(column, expected, atol=1e-6)
    assert (without_three.features(found, ids[:3])[:, FEATURES.index("description")] == 0).all()


def test_shelf_features_match_a_book_by_book_computation(runtime: Runtime) -> None:
    """Shelf similarity and shelf consensus, against their definitions, a shelfless book included."""
    search = runtime.search
    found = search.retrieve("witches and a coven in a small town", "hybrid", Filter(), 50)
    assert found.vector is not None
    ids = [book_id for book_id, _ in search.fused(found)][:30]
    bare = ids[4]
    catalog = BookCatalog([
        dataclasses.replace(b, shelves=[]) if b.book_id == bare else b for b in search.catalog
    ])
    service = SearchService(search.encoder, search.store, catalog, search.settings, None, search.lexical)
    shelves = {book_id: catalog.get(book_id).shelves for book_id in ids}  # type: ignore[union-attr]
    phrases = sorted({s for b in catalog for s in b.shelves})
    sims = dict(zip(phrases, search.encoder.encode([shelf_phrase(s) for s in phrases]) @ found.vector, strict=True))
    counts: dict[str, int] = {}
    for book_id in ids[:CONSENSUS_DEPTH]:
        for shelf in shelves[book_id]:
            counts[shelf] = counts.get(shelf, 0) + 1
    norm = math.sqrt(sum(n * n for n in counts.values()))
    expected_similarity = [max((sims[s] for s in shelves[i]), default=0.0) for i in ids]
    expected_consensus = [
        sum(counts.get(s, 0) for s in shelves[i]) / (math.sqrt(len(shelves[i])) * norm) if shelves[i] else 0.0
        for i in ids
    ]
    features = service.features(found, ids)
    np.testing.assert_allclose(features[:, FEATURES.index("shelf_similarity")], expected_similarity, atol=1e-5)
    np.testing.assert_allclose(features[:, FEATURES.index("shelf_consensus")], expected_consensus, atol=1e-9)
    assert features[4, FEATURES.index("shelf_similarity")] == features[4, FEATURES.index("shelf_words")] == 0.0
    assert (features[:, FEATURES.index("shelf_consensus")] > 0).sum() >= len(ids) - 1


def test_serving_waits_for_missing_and_refuses_stale_description_vectors(
    runtime: Runtime, sample_data_dir: Path, tmp_path: Path
) -> None:
    """Missing ones are not yet written (search goes on without them until then); ones made by
    another encoder would score queries against the wrong space."""
    empty = Settings(data_dir=tmp_path / "empty")
    assert description_vectors(empty, runtime.encoder) is None
    stale = Settings(data_dir=tmp_path / "stale")
    source = embeddings_path(
        Settings(data_dir=sample_data_dir).embeddings_dir, stale.model.name, "description"
    )
    copy = embeddings_path(stale.embeddings_dir, stale.model.name, "description")
    shutil.copytree(source, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "model_version": "other/v0"}))
    with pytest.raises(RuntimeError, match="other/v0"):
        description_vectors(stale, runtime.encoder)
