"""Candidate retrieval: the vector KNN, BM25 and nearest-description lists, and their scores."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from cachetools import LRUCache, cached

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.embed.encoder import Encoder
from vibeshelf.embed.vectors import EmbeddingSet
from vibeshelf.index.base import VectorStore
from vibeshelf.index.filters import Filter
from vibeshelf.search.filters import keeper
from vibeshelf.search.lexical import LexicalIndex
from vibeshelf.search.query import SENTENCE_END
from vibeshelf.search.ranking import RankTable
from vibeshelf.search.schemas import Mode
from vibeshelf.search.topk import best_passing

LONG_QUERY_WORDS = 30  # a query longer than this is encoded a sentence at a time


def sentences(text: str) -> list[str]:
    """A long query's sentences (a short one whole), each with at least three words; a run of
    short sentences joins the next."""
    if len(text.split()) <= LONG_QUERY_WORDS:
        return [text]
    parts: list[str] = []
    pending = ""
    for part in SENTENCE_END.split(text):
        pending = f"{pending} {part}".strip()
        if len(pending.split()) >= 3:
            parts.append(pending)
            pending = ""
    if pending and parts:
        parts[-1] = f"{parts[-1]} {pending}"
    return parts or [text]


def query_encoder(
    encoder: Encoder, cache_size: int, fusion: str = "whole"
) -> Callable[[str], np.ndarray]:
    """Unit vectors of one query text, a row each, the last `cache_size` kept in a thread-safe LRU
    (0: none kept). The first row is the text encoded at once (cut at the model's token limit);
    with `fusion` "max" a long query's sentence vectors follow it, and vector retrieval takes
    each candidate's best similarity to any row, so every part of a long post counts."""
    cache: LRUCache[tuple[str], np.ndarray] = LRUCache(maxsize=cache_size)

    def encode(text: str) -> np.ndarray:
        parts = sentences(text) if fusion == "max" else [text]
        return encoder.encode([text] if len(parts) == 1 else [text, *parts])

    return cached(cache, lock=threading.Lock())(encode)


@dataclass
class Retrieved:
    """One query's candidates from each retriever, with the scores ranking and explaining need."""

    text: str
    vector: np.ndarray | None
    vector_ranked: list[tuple[str, float]]
    similarity: dict[str, float]
    lexical_ids: list[str]
    bm25: np.ndarray | None
    bm25_max: float
    description_ids: list[str]

    @cached_property
    def vector_ids(self) -> list[str]:
        return [book_id for book_id, _ in self.vector_ranked]


@dataclass(frozen=True)
class CandidateScores:
    """What retrieval and ranking know of each candidate, in the candidates' order."""

    similarity: Sequence[float]  # cosine to the query
    bm25: Sequence[float]  # raw BM25 score, 0 when not scored
    popularity: Sequence[float]  # log popularity in [0, 1]
    description: Sequence[float]  # cosine to the book's description alone, 0 without one


class DescriptionVectors:
    """The catalog books' description vectors, then a zero row for books without one."""

    def __init__(self, descriptions: EmbeddingSet, catalog: BookCatalog) -> None:
        in_catalog = [i in catalog for i in descriptions.ids]
        self.ids = [i for i, kept in zip(descriptions.ids, in_catalog, strict=True) if kept]
        self._row = {book_id: row for row, book_id in enumerate(self.ids)}
        self._vectors = np.vstack([
            descriptions.vectors[in_catalog],
            np.zeros((1, descriptions.vectors.shape[1]), np.float32),
        ])

    def nearest(self, vector: np.ndarray, k: int, keep: Callable[[str], bool] | None) -> list[str]:
        """Up to k books that pass `keep` (all when None) whose description alone is nearest the
        query (exact)."""
        if k <= 0:
            return []
        ids = self.ids
        passes = None if keep is None else (lambda row: keep(ids[row]))
        return [ids[row] for row in best_passing(self._vectors[:-1] @ vector, k, passes)]

    def similarities(self, vector: np.ndarray, ids: list[str]) -> list[float]:
        """Cosine of the query to each book's description vector; 0 for books without one."""
        missing = len(self._vectors) - 1
        rows = [self._row.get(book_id, missing) for book_id in ids]
        return (self._vectors[rows] @ vector).tolist()  # type: ignore[no-any-return]


@dataclass(eq=False)
class Retriever:
    """Vector, BM25 and description candidates for a query, each list best first."""

    store: VectorStore
    catalog: BookCatalog
    ranking: RankTable
    lexical: LexicalIndex | None
    descriptions: DescriptionVectors | None

    def __post_init__(self) -> None:
        # BM25 scores only catalog books (an index kept from an earlier build may hold others).
        ids = self.lexical.ids if self.lexical is not None else []
        self._lexical_outside = np.flatnonzero([i not in self.ranking for i in ids])

    def retrieve(
        self,
        text: str,
        vector: np.ndarray | None,
        mode: Mode,
        filters: Filter,
        k: int,
        popularity_weight: float,
        title_only: Collection[str] = (),
        parts: np.ndarray | None = None,
        field_weights: Mapping[str, float] | None = None,
    ) -> Retrieved:
        """Each retriever's top k for the query (`vector` its embedding, None in lexical mode);
        books in `title_only` (the query's words are only in their titles) get no BM25 score;
        `parts` (rows: the vectors of a long query's sentences) add their nearest books at their
        best similarity to the query or any part; `field_weights` weigh BM25's fields."""
        vector_ranked: list[tuple[str, float]] = []
        similarity: dict[str, float] = {}
        if mode != "lexical" and vector is not None:
            books = self.ranking.books
            for row in [vector, *(parts if parts is not None else [])]:
                for book_id, sim in self.store.knn(row, k, filters):
                    if sim > similarity.get(book_id, -2.0) and book_id in books:
                        similarity[book_id] = sim
            vector_ranked = self.ranking.rank(similarity.items(), popularity_weight)[:k]
        lexical_ids: list[str] = []
        bm25 = None
        bm25_max = 0.0
        if mode != "vector" and self.lexical is not None:
            bm25 = self.lexical.scores(text, field_weights)  # a new array, zeroed in place
            bm25[self._lexical_outside] = 0.0
            if title_only:
                position = self.lexical.position
                bm25[[position[i] for i in title_only if i in position]] = 0.0
            bm25_max = float(bm25.max()) if len(bm25) else 0.0
            lexical_ids = [i for i, _ in self.lexical.top(bm25, k, keeper(filters, self.catalog))]
        description_ids = (
            self.descriptions.nearest(vector, k, keeper(filters, self.catalog))
            if mode == "hybrid" and vector is not None and self.descriptions is not None
            else []
        )
        return Retrieved(
            text, vector, vector_ranked, similarity, lexical_ids, bm25, bm25_max, description_ids
        )

    def similarities(self, found: Retrieved, ids: list[str]) -> list[float]:
        """Cosine similarity of each book to the query (computed for books KNN did not return)."""
        missing = [i for i in ids if i not in found.similarity]
        if missing and found.vector is not None:
            exact = self.store.similarities(found.vector, missing)
            found.similarity.update({i: s for i, s in zip(missing, exact, strict=True) if s is not None})
        return [found.similarity.get(i, 0.0) for i in ids]

    def scores(self, found: Retrieved, ids: list[str]) -> CandidateScores:
        """The candidates' scores the rerank features read."""
        return CandidateScores(
            similarity=self.similarities(found, ids),
            bm25=self._bm25(found, ids),
            popularity=self.ranking.popularities(ids),
            description=self.descriptions.similarities(found.vector, ids)
            if self.descriptions is not None and found.vector is not None
            else [0.0] * len(ids),
        )

    def _bm25(self, found: Retrieved, ids: list[str]) -> list[float]:
        """Each book's raw BM25 score for the query, 0 when not scored."""
        if found.bm25 is None or self.lexical is None:
            return [0.0] * len(ids)
        position = self.lexical.position
        rows = [position.get(book_id, -1) for book_id in ids]
        scores = found.bm25[rows].tolist()
        return [0.0 if row < 0 else score for row, score in zip(rows, scores, strict=True)]
