"""The rerank features (search.rerank.FEATURES) of a query's candidate books."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.catalog.shelves import shelf_phrase
from vibeshelf.embed.encoder import Encoder
from vibeshelf.search.lexical import tokenize
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
    zeros = np.zeros(len(ids))
    vector_rank = {book_id: r for r, book_id in enumerate(found.vector_ids, 1)}
    lexical_rank = {book_id: r for r, book_id in enumerate(found.lexical_ids, 1)}
    query_stems = set(tokenize(found.text))
    books_shelves = [shelves.book_shelves[book_id] for book_id in ids]
    sizes = np.array([len(s) for s in books_shelves])
    flat = np.concatenate(books_shelves)
    consensus = np.bincount(flat[: sizes[:CONSENSUS_DEPTH].sum()], minlength=len(shelves.stems))
    columns = {
        "vector": scores.similarity,
        "lexical": [b / found.bm25_max for b in scores.bm25] if found.bm25_max > 0 else zeros,
        "popularity": scores.popularity,
        "shelf_words": [len(query_stems & shelves.book_stems[i]) / len(query_stems) for i in ids]
        if query_stems else zeros,
        "shelf_similarity": _per_book((shelves.vectors @ found.vector)[flat], sizes, np.maximum)
        if shelves.vectors is not None and found.vector is not None else zeros,
        "vector_rr": [(rrf_k + 1) / (rrf_k + vector_rank[i]) if i in vector_rank else 0.0 for i in ids],
        "lexical_rr": [(rrf_k + 1) / (rrf_k + lexical_rank[i]) if i in lexical_rank else 0.0 for i in ids],
        "shelf_consensus": _per_book(consensus[flat].astype(np.float64), sizes, np.add)
        / (np.sqrt(np.maximum(sizes, 1)) * (math.sqrt(int(consensus @ consensus)) or 1.0)),
        "description": scores.description,
    }
    return np.column_stack([np.asarray(columns[name], dtype=np.float64) for name in FEATURES])


def _per_book(values: np.ndarray, sizes: np.ndarray, reduce: np.ufunc) -> np.ndarray:
    """`reduce` over consecutive runs of `values`, one run per book of `sizes` items (0 if none)."""
    out = np.zeros(len(sizes))
    some = sizes > 0
    if some.any():
        out[some] = reduce.reduceat(values, (np.cumsum(sizes) - sizes)[some])
    return out
