"""Feature rows per (reader, candidate book): the frame the ranker reads, with user_id and item_id.

The feature store fills the same frame; FEATURES_VERSION names these definitions, and a ranker
records the version it was trained on. A source that did not propose a book leaves its score and
rank NaN (LightGBM learns where missing values go).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp

from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.retrieval import Proposal
from vibeshelf.recommend.twostage.books import BookFacts
from vibeshelf.recommend.twostage.candidates import SOURCES

FEATURES_VERSION = "twostage-features-1"
BOOK_FEATURES = ("popularity", "mean_rating", "log_ratings_count", "year", "has_description")
READER_FEATURES = ("history_size",)
PAIR_FEATURES = ("n_sources", "genre_overlap")
CHUNK = 20_000


def feature_names(sources: Sequence[str] = SOURCES) -> list[str]:
    """The ranker's input columns, in order."""
    per_source = [f"{s}_{what}" for s in sources for what in ("score", "rank")]
    return [*per_source, *PAIR_FEATURES, *BOOK_FEATURES, *READER_FEATURES]


class Features(Protocol):
    """The feature stage: one row per (reader, proposal), columns user_id, item_id and features."""

    def __call__(self, user_id: str, proposals: Sequence[Proposal]) -> pd.DataFrame: ...


class FeatureBuilder:
    """Features from a recommender model (histories, counts) and the catalog's book facts."""

    def __init__(
        self, model: RecsModel, facts: Mapping[str, BookFacts], sources: Sequence[str] = SOURCES
    ) -> None:
        self.model = model
        self.sources = tuple(sources)
        blank = BookFacts()
        self.facts = [facts.get(i, blank) for i in model.items.ids]

    def __call__(self, user_id: str, proposals: Sequence[Proposal]) -> pd.DataFrame:
        return self.frame([(user_id, proposals)])

    def frame(self, requests: Sequence[tuple[str, Sequence[Proposal]]]) -> pd.DataFrame:
        """Rows for many readers at once (a reader unknown to the model has an empty history)."""
        index = self.model.item_index
        user_ids = [u for u, props in requests for _ in props]
        item_ids = [p.item_id for _, props in requests for p in props]
        items = np.fromiter((index.get(i, -1) for i in item_ids), np.int64, len(item_ids))
        known_user = [self.model.user_index.get(u, -1) for u, _ in requests]
        users = np.repeat(known_user, [len(props) for _, props in requests])
        columns: dict[str, np.ndarray] = {}
        proposals = [p for _, props in requests for p in props]
        for source in self.sources:
            columns[f"{source}_score"] = np.array(
                [p.scores.get(source, np.nan) for p in proposals], np.float64
            )
            columns[f"{source}_rank"] = np.array(
                [p.ranks.get(source, np.nan) for p in proposals], np.float64
            )
        columns["n_sources"] = np.array([len(p.ranks) for p in proposals], np.float64)
        columns["genre_overlap"] = self._genre_overlap(users, items)
        book = self.book_table[np.where(items >= 0, items, len(self.facts))]
        columns.update({name: book[:, j] for j, name in enumerate(BOOK_FEATURES)})
        sizes = np.diff(self.model.seen.indptr)
        columns["history_size"] = np.where(users >= 0, sizes[np.maximum(users, 0)], 0).astype(float)
        frame = pd.DataFrame({"user_id": user_ids, "item_id": item_ids})
        return pd.concat([frame, pd.DataFrame(columns)[feature_names(self.sources)]], axis=1)

    @cached_property
    def book_table(self) -> np.ndarray:
        """BOOK_FEATURES per item, and a last all-NaN row for books outside the model."""
        counts = np.log1p(self.model.counts.astype(np.float64))
        rows = [
            [
                counts[i],
                np.nan if f.average_rating is None else f.average_rating,
                np.log1p(f.ratings_count),
                np.nan if f.year is None else f.year,
                float(f.has_description),
            ]
            for i, f in enumerate(self.facts)
        ]
        return np.array([*rows, [np.nan] * len(BOOK_FEATURES)], np.float64)

    @cached_property
    def genre_matrix(self) -> sp.csr_matrix:
        """Items x genres, rows scaled to unit length (items without genres stay zero)."""
        vocab = sorted({g for f in self.facts for g in f.genres})
        col = {g: j for j, g in enumerate(vocab)}
        pairs = np.array(
            [(i, col[g]) for i, f in enumerate(self.facts) for g in f.genres], np.int64
        ).reshape(-1, 2)
        m = sp.csr_matrix(
            (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
            shape=(len(self.facts), max(len(vocab), 1)),
        )
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        return sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ m

    def _genre_overlap(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Cosine between each book's genres and its reader's genre profile: the sum of the read
        books' unit-length genre vectors (every read book weighs the same)."""
        out = np.zeros(len(users))
        ok = (users >= 0) & (items >= 0)
        if not ok.any():
            return out
        g = self.genre_matrix
        distinct, inverse = np.unique(users[ok], return_inverse=True)
        profiles = np.asarray((self.model.seen[distinct] @ g).todense())
        norms = np.linalg.norm(profiles, axis=1, keepdims=True)
        profiles = np.divide(profiles, norms, out=np.zeros_like(profiles), where=norms > 0)
        rows, cols = np.flatnonzero(ok), items[ok]
        for start in range(0, len(rows), CHUNK):
            part = slice(start, start + CHUNK)
            book = g[cols[part]]
            out[rows[part]] = np.asarray(book.multiply(profiles[inverse[part]]).sum(axis=1)).ravel()
        return out

