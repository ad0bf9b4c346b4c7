"""The rerank features (search.rerank.FEATURES) of a query's candidate books."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.catalog.shelves import shelf_phrase
from vibeshelf.embed.encoder import Encoder
from vibeshelf.search.lexical import query_stems, tokenize
from vibeshelf.search.rerank import CONSENSUS_DEPTH, FEATURES
from vibeshelf.search.retrieve import CandidateScores, Retrieved


@dataclass(frozen=True)
class ShelfTables:
    """The catalog's shelves as the shelf features read them, built once per catalog."""

    stems: Mapping[str, frozenset[str]]  # shelf -> the stems of its phrase, one entry per shelf
    book_stems: Mapping[str, frozenset[str]]  # book id -> the stems of all its shelves
    book_shelves: Mapping[str, np.ndarray]  # book id -> its shelves' positions in `stems`
    vectors: np.ndarray | None  # the shelf phrases' vectors, a row per shelf of `stems`

    @classmethod
    def build(cls, catalog: BookCatalog, encoder: Encoder) -> ShelfTables:
        shelves = list(catalog.shelf_counts)
        stems = {shelf: frozenset(tokenize(shelf_phrase(shelf))) for shelf in shelves}
        position = {shelf: i for i, shelf in enumerate(shelves)}
        return cls(
            stems=stems,
            book_stems={
                book.book_id: frozenset().union(*(stems[s] for s in book.shelves)) for book in catalog
            },
            book_shelves={
                book.book_id: np.array([position[s] for s in book.shelves], dtype=np.int64)
                for book in catalog
            },
            vectors=encoder.encode([shelf_phrase(s) for s in shelves]) if shelves else None,
        )


def rerank_features(
    found: Retrieved, ids: list[str], scores: CandidateScores, shelves: ShelfTables, rrf_k: int
) -> np.ndarray:
    """A candidates x FEATURES matrix for `ids` (the query's candidates, fused order), whose
    retrieval scores are `scores`; `rrf_k` is the reciprocal-rank constant."""
    if not ids:
        return np.zeros((0, len(FEATURES)))
    count = len(ids)
    columns = np.zeros((len(FEATURES), count))
    column = dict(zip(FEATURES, columns, strict=True))  # each a row of `columns`, filled in place
    column["vector"][:] = scores.similarity
    if found.bm25_max > 0:
        column["lexical"][:] = scores.bm25
        column["lexical"] /= found.bm25_max
    column["popularity"][:] = scores.popularity
    stems = set(query_stems(found.text))
    if stems:
        book_stems = shelves.book_stems
        column["shelf_words"][:] = [len(stems & book_stems[i]) for i in ids]
        column["shelf_words"] /= len(stems)
    books_shelves = [shelves.book_shelves[book_id] for book_id in ids]
    sizes = np.fromiter(map(len, books_shelves), dtype=np.int64, count=count)
    flat = np.concatenate(books_shelves)
    if shelves.vectors is not None and found.vector is not None:
        column["shelf_similarity"][:] = _per_book((shelves.vectors @ found.vector)[flat], sizes, np.maximum)
    column["vector_rr"][:] = _reciprocal_ranks(found.vector_ids, ids, rrf_k)
    column["lexical_rr"][:] = _reciprocal_ranks(found.lexical_ids, ids, rrf_k)
    consensus = np.bincount(flat[: sizes[:CONSENSUS_DEPTH].sum()], minlength=len(shelves.stems))
    column["shelf_consensus"][:] = _per_book(consensus[flat].astype(np.float64), sizes, np.add) / (
        np.sqrt(np.maximum(sizes, 1)) * (math.sqrt(int(consensus @ consensus)) or 1.0)
    )
    column["description"][:] = scores.description
    return columns.T.copy()


def _reciprocal_ranks(ranking: list[str], ids: list[str], rrf_k: int) -> list[float]:
    """(k + 1) / (k + rank) of each of `ids` in `ranking` (rank from 1), 0 for one not in it."""
    rank = {book_id: r for r, book_id in enumerate(ranking, 1)}
    return [(rrf_k + 1) / (rrf_k + rank[i]) if i in rank else 0.0 for i in ids]


def _per_book(values: np.ndarray, sizes: np.ndarray, reduce: np.ufunc) -> np.ndarray:
    """`reduce` over consecutive runs of `values`, one run per book of `sizes` items (0 if none)."""
    out = np.zeros(len(sizes))
    some = sizes > 0
    if some.any():
        out[some] = reduce.reduceat(values, (np.cumsum(sizes) - sizes)[some])
    return out
