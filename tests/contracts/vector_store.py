"""The behaviour every VectorStore backend must show; subclass and provide `store`.

A backend that can keep float16 vectors overrides `vector_dtype` with both dtypes as params: exact
answers are then computed on the vectors as that dtype keeps them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from vibeshelf.index.base import Hit, IndexManifest, Records, VectorStore
from vibeshelf.index.filters import Filter, Range, Tag
from vibeshelf.storage.errors import StoreError

DIM = 16
N = 200
# How far a similarity may be from the exact cosine of the stored vectors, per vector dtype.
SIMILARITY_TOLERANCE = {"float32": 1e-5, "float16": 2e-3}


def unit_rows(n: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def sample_records(n: int = N, seed: int = 0, prefix: str = "b") -> Records:
    shelves = ["mystery", "fantasy", "romance", "sci-fi"]
    genres = [["cozy mystery", "mystery"], ["fantasy"], ["children's", "romance"], ["science fiction"]]
    fields = [
        {
            "year": 1950 + i % 70 if i % 10 else None,
            "average_rating": 3.0 + (i % 20) / 10,
            "ratings_count": 10 * i,
            "language": "eng" if i % 3 else "spa",
            "shelves": [shelves[i % 4], "Fiction"],
            "genres": [*genres[i % 4][: 1 + i % 2], "fiction"],
        }
        for i in range(n)
    ]
    return Records([f"{prefix}{i}" for i in range(n)], unit_rows(n, seed), fields)


def manifest() -> IndexManifest:
    return IndexManifest(model_name="test-model", model_version="v1", dim=DIM, catalog_checksum="abc")


def as_stored(vectors: np.ndarray, dtype: str) -> np.ndarray:
    """Vectors rounded to `dtype` and back, as a store keeping that dtype sees them."""
    return vectors.astype(dtype).astype(np.float32)


def brute_force(
    records: Records, query: np.ndarray, keep: np.ndarray, k: int, dtype: str = "float32"
) -> list[str]:
    """The exact top k ids among `keep` by cosine, on the vectors as `dtype` keeps them."""
    vectors = as_stored(records.vectors, dtype)
    sims = vectors @ as_stored(query, dtype) / np.linalg.norm(vectors, axis=1)
    sims[~keep] = -np.inf
    order = np.argsort(-sims, kind="stable")[:k]
    return [records.ids[i] for i in order if keep[i]]


def exact_filtered(
    loaded: tuple[VectorStore, Records],
    seed: int,
    flt: Filter,
    predicate: Callable[[dict[str, Any]], bool],
    k: int,
    dtype: str,
) -> list[Hit]:
    """A random query's filtered top k, asserted equal to exact search over the rows `predicate` keeps."""
    store, records = loaded
    query = unit_rows(1, seed=seed)[0]
    hits = store.knn(query, k, flt)
    keep = np.array([predicate(f) for f in records.fields])
    assert [h.id for h in hits] == brute_force(records, query, keep, k, dtype), flt
    return hits


class VectorStoreContract:
    """Shared behavioural tests; a subclass defines the `store` fixture (an empty store)."""

    @pytest.fixture
    def vector_dtype(self) -> str:
        """The dtype `store` keeps its vectors in."""
        return "float32"

    @pytest.fixture
    def loaded(self, store: VectorStore) -> tuple[VectorStore, Records]:
        records = sample_records()
        store.rebuild(records, manifest())
        return store, records

    def test_empty_store_counts_zero(self, store: VectorStore) -> None:
        assert store.count() == 0
        assert store.health()["ok"] is False
        with pytest.raises(StoreError, match="vibeshelf index"):
            store.knn(unit_rows(1, seed=1)[0], 3)

    def test_rebuild_sets_count_and_manifest(self, loaded: tuple[VectorStore, Records]) -> None:
        store, records = loaded
        assert store.count() == len(records)
        assert store.manifest.count == len(records)
        assert store.manifest.dim == DIM
        assert store.manifest.model_version == "v1"
        assert store.manifest.catalog_checksum == "abc"
        assert store.manifest.build_id

    def test_record_is_its_own_nearest_neighbour(
        self, loaded: tuple[VectorStore, Records], vector_dtype: str
    ) -> None:
        store, records = loaded
        for i in (0, 57, 199):
            hits = store.knn(records.vectors[i], 3)
            assert hits[0].id == records.ids[i]
            assert hits[0].similarity == pytest.approx(1.0, abs=SIMILARITY_TOLERANCE[vector_dtype])

    def test_knn_matches_exact_search(
        self, loaded: tuple[VectorStore, Records], vector_dtype: str
    ) -> None:
        store, records = loaded
        query = unit_rows(1, seed=99)[0]
        hits = store.knn(query, 10)
        expected = brute_force(records, query, np.ones(len(records), bool), 10, vector_dtype)
        assert len({h.id for h in hits} & set(expected)) >= 9
        sims = [h.similarity for h in hits]
        assert sims == sorted(sims, reverse=True)

    def test_tag_filter(self, loaded: tuple[VectorStore, Records], vector_dtype: str) -> None:
        flt = Filter.of(Tag.any_of("shelves", "Mystery"))
        hits = exact_filtered(loaded, 5, flt, lambda f: f["shelves"][0] == "mystery", 10, vector_dtype)
        assert hits

    def test_genre_filter_matches_multi_word_genres(
        self, loaded: tuple[VectorStore, Records], vector_dtype: str
    ) -> None:
        for genre in ("Cozy Mystery", "children's"):
            flt = Filter.of(Tag.any_of("genres", genre))
            hits = exact_filtered(loaded, 8, flt, lambda f, g=genre: g.lower() in f["genres"], 10, vector_dtype)
            assert hits and len(hits) < len(loaded[1].ids), genre

    def test_range_and_tag_filters_combine(
        self, loaded: tuple[VectorStore, Records], vector_dtype: str
    ) -> None:
        flt = Filter.of(
            Range("year", 1990, 2000), Range("average_rating", low=3.5), Tag.any_of("language", "eng")
        )
        hits = exact_filtered(
            loaded,
            6,
            flt,
            lambda f: f["year"] is not None and 1990 <= f["year"] <= 2000
            and f["average_rating"] >= 3.5 and f["language"] == "eng",
            50,
            vector_dtype,
        )
        assert hits

    def test_each_filter_kind_alone(
        self, loaded: tuple[VectorStore, Records], vector_dtype: str
    ) -> None:
        cases = [
            (Tag.any_of("language", "SPA"), lambda f: f["language"] == "spa"),
            (Tag.any_of("shelves", "romance", "sci-fi"),
             lambda f: f["shelves"][0] in ("romance", "sci-fi")),
            (Range("average_rating", 4.2, 4.5), lambda f: 4.2 <= f["average_rating"] <= 4.5),
            (Range("ratings_count", low=1500), lambda f: f["ratings_count"] >= 1500),
            (Range("year", high=1960.5), lambda f: f["year"] is not None and f["year"] <= 1960.5),
        ]
        for clause, predicate in cases:
            exact_filtered(loaded, 8, Filter.of(clause), predicate, 10, vector_dtype)

    def test_a_missing_value_never_matches_a_range(self, loaded: tuple[VectorStore, Records]) -> None:
        store, records = loaded
        hits = store.knn(records.vectors[0], 1000, Filter.of(Range("year", -1e9, 1e9)))
        assert len(hits) == sum(f["year"] is not None for f in records.fields)
        assert "b0" not in {h.id for h in hits}

    def test_filter_matches_agrees_with_the_store(self, loaded: tuple[VectorStore, Records]) -> None:
        store, records = loaded
        flt = Filter.of(Range("year", 1990, 2000), Tag.any_of("shelves", "Mystery", "romance"))
        hits = store.knn(unit_rows(1, seed=9)[0], N, flt)
        expected = {rid for rid, f in zip(records.ids, records.fields, strict=True) if flt.matches(f)}
        assert expected and {h.id for h in hits} == expected

    def test_similarities_are_exact_cosines(
        self, loaded: tuple[VectorStore, Records], vector_dtype: str
    ) -> None:
        store, records = loaded
        query = unit_rows(1, seed=8)[0]
        sims = store.similarities(query, [records.ids[3], "missing", records.ids[7]])
        assert sims[1] is None
        np.testing.assert_allclose(
            [sims[0], sims[2]],
            records.vectors[[3, 7]] @ query,
            rtol=0,
            atol=SIMILARITY_TOLERANCE[vector_dtype],
        )

    def test_filter_matching_nothing_returns_empty(self, loaded: tuple[VectorStore, Records]) -> None:
        store, records = loaded
        assert store.knn(records.vectors[0], 5, Filter.of(Tag.any_of("shelves", "cookbooks"))) == []

    def test_k_larger_than_matches_returns_all_matches(self, loaded: tuple[VectorStore, Records]) -> None:
        store, records = loaded
        hits = store.knn(records.vectors[0], 1000, Filter.of(Range("ratings_count", high=90)))
        assert sorted(h.id for h in hits) == sorted(f"b{i}" for i in range(10))

    def test_upsert_inserts_and_replaces(self, loaded: tuple[VectorStore, Records]) -> None:
        store, records = loaded
        new = sample_records(n=5, seed=42, prefix="new")
        replaced = Records(["b3"], new.vectors[:1] * -1, [dict(records.fields[3], shelves=["poetry"])])
        store.upsert(new)
        store.upsert(replaced)
        assert store.count() == len(records) + 5
        assert store.knn(new.vectors[2], 1)[0].id == "new2"
        assert store.knn(-new.vectors[0], 1)[0].id == "b3"
        poetry = store.knn(records.vectors[0], 5, Filter.of(Tag.any_of("shelves", "poetry")))
        assert [h.id for h in poetry] == ["b3"]

    def test_delete_removes_records(self, loaded: tuple[VectorStore, Records]) -> None:
        store, records = loaded
        assert store.delete(["b0", "b1", "missing"]) == 2
        assert store.count() == len(records) - 2
        ids = [h.id for h in store.knn(records.vectors[0], 20)]
        assert "b0" not in ids and "b1" not in ids
        assert store.delete(["b0"]) == 0

    def test_rebuild_keeps_the_tail_batch(self, store: VectorStore) -> None:
        records = sample_records(n=203, seed=4, prefix="t")
        store.rebuild(records, manifest())
        assert store.count() == 203
        assert store.knn(records.vectors[202], 1)[0].id == "t202"

    def test_upsert_keeps_the_tail_batch(self, loaded: tuple[VectorStore, Records]) -> None:
        store, records = loaded
        new = sample_records(n=131, seed=9, prefix="u")
        store.upsert(new)
        assert store.count() == len(records) + 131
        assert store.manifest.count == len(records) + 131
        assert store.knn(new.vectors[130], 1)[0].id == "u130"

    def test_rebuild_replaces_everything(self, loaded: tuple[VectorStore, Records]) -> None:
        store, records = loaded
        first = store.manifest.build_id
        fresh = sample_records(n=30, seed=7, prefix="n")
        store.rebuild(fresh, manifest())
        assert store.count() == 30
        assert store.manifest.build_id != first
        hits = store.knn(records.vectors[0], 50)
        assert {h.id for h in hits} == set(fresh.ids)

    def test_searches_during_a_rebuild_see_old_or_new(
        self, loaded: tuple[VectorStore, Records]
    ) -> None:
        store, records = loaded
        fresh = sample_records(n=3000, seed=11, prefix="n")
        seen = []
        with ThreadPoolExecutor(1) as pool:
            writer = pool.submit(store.rebuild, fresh, manifest())
            while True:
                running = not writer.done()
                ids = {h.id[0] for h in store.knn(records.vectors[1], 5)}
                seen.append((ids, store.count()))
                if not running:
                    break
            writer.result()
        assert all(ids in ({"b"}, {"n"}) and n in (len(records), 3000) for ids, n in seen), seen
        assert seen[-1] == ({"n"}, 3000)

    def test_dimension_mismatch_is_an_error(self, loaded: tuple[VectorStore, Records]) -> None:
        store, _ = loaded
        with pytest.raises(ValueError):
            store.knn(np.ones(DIM + 1, np.float32), 3)

    def test_health_reports_count(self, loaded: tuple[VectorStore, Records]) -> None:
        store, records = loaded
        health = store.health()
        assert health["ok"] is True
        assert health["count"] == len(records)

    def test_drop_empties_the_store(self, loaded: tuple[VectorStore, Records]) -> None:
        store, records = loaded
        store.drop()
        assert store.count() == 0
        assert store.health()["ok"] is False
        store.rebuild(sample_records(n=10, seed=2, prefix="d"), manifest())
        assert store.count() == 10
        assert store.knn(records.vectors[0], 20)[0].id.startswith("d")
