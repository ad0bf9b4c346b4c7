"""The rerank features, each computed on three hand-built candidates with known values."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from vibeshelf.catalog.books import Book, BookCatalog
from vibeshelf.search.features import ShelfTables, rerank_features
from vibeshelf.search.rerank import FEATURES
from vibeshelf.search.retrieve import CandidateScores, Retrieved

# Unit vectors of the shelf phrases; the query's vector is [1, 0].
PHRASES = {"cozy mystery": [1.0, 0.0], "cats": [0.0, 1.0], "horror": [0.6, -0.8]}
QUERY = np.array([1.0, 0.0], dtype=np.float32)
IDS = ["b1", "b2", "b3"]
K = 60


class PhraseEncoder:
    name = version = normalization = "fixed"
    dim = 2

    def encode(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool = False
    ) -> np.ndarray:
        return np.array([PHRASES[t] for t in texts], dtype=np.float32)


def book(book_id: str, shelves: list[str]) -> Book:
    return Book(
        book_id, f"Title {book_id}", ["Author"], 2000, "eng", 4.0, 10, shelves, None, None, None, None
    )


@pytest.fixture(scope="module")
def shelves() -> ShelfTables:
    catalog = BookCatalog([book("b1", ["cozy-mystery", "cats"]), book("b2", ["horror"]), book("b3", [])])
    return ShelfTables.build(catalog, PhraseEncoder())


def retrieved(text: str = "a cozy mystery", bm25_max: float = 4.0) -> Retrieved:
    """Vector candidates b2, b1; BM25 candidates b1, b3."""
    return Retrieved(
        text=text,
        vector=QUERY,
        vector_ranked=[("b2", 0.9), ("b1", 0.8)],
        similarity={"b2": 0.9, "b1": 0.8},
        lexical_ids=["b1", "b3"],
        bm25=None,
        bm25_max=bm25_max,
        description_ids=[],
    )


SCORES = CandidateScores(
    similarity=[0.8, 0.9, 0.1],
    bm25=[4.0, 0.0, 2.0],
    popularity=[0.5, 1.0, 0.0],
    description=[0.3, 0.0, -0.2],
)


def test_each_feature_in_the_order_of_FEATURES(shelves: ShelfTables) -> None:
    expected = {
        "vector": [0.8, 0.9, 0.1],
        "lexical": [1.0, 0.0, 0.5],  # BM25 over the query's best BM25 (4.0)
        "popularity": [0.5, 1.0, 0.0],
        "shelf_words": [1.0, 0.0, 0.0],  # b1's shelves hold both query stems, cozi and mysteri
        "shelf_similarity": [1.0, 0.6, 0.0],  # the best shelf cosine; 0 for the shelfless b3
        "vector_rr": [(K + 1) / (K + 2), 1.0, 0.0],
        "lexical_rr": [1.0, 0.0, (K + 1) / (K + 2)],
        # Every shelf is on one of the top books: counts (1, 1, 1), norm sqrt(3).
        "shelf_consensus": [2 / (math.sqrt(2) * math.sqrt(3)), 1 / math.sqrt(3), 0.0],
        "description": [0.3, 0.0, -0.2],
    }
    assert set(expected) == set(FEATURES)
    features = rerank_features(retrieved(), IDS, SCORES, shelves, K)
    assert features.shape == (3, len(FEATURES))
    in_order = np.column_stack([expected[name] for name in FEATURES])
    np.testing.assert_allclose(features, in_order, atol=1e-7)


def test_lexical_and_shelf_words_are_zero_without_bm25_or_query_words(shelves: ShelfTables) -> None:
    features = rerank_features(retrieved(text="the of", bm25_max=0.0), IDS, SCORES, shelves, K)
    assert (features[:, FEATURES.index("lexical")] == 0).all()
    assert (features[:, FEATURES.index("shelf_words")] == 0).all()


def test_no_candidates_no_rows(shelves: ShelfTables) -> None:
    none = CandidateScores([], [], [], [])
    assert rerank_features(retrieved(), [], none, shelves, K).shape == (0, len(FEATURES))
