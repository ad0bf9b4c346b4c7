"""Feature rows per (reader, candidate book): the frame the ranker reads, with user_id and item_id.

The feature store fills the same frame; FEATURES_VERSION names these definitions, and a ranker
records the version (and the candidate sources) it was trained on. Training and serving build the
rows here, from the same profile a request carries. A source that did not propose a book leaves
its score and rank NaN (LightGBM learns where missing values go).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp

from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.retrieval import Proposal
from vibeshelf.recommend.sources import Profile
from vibeshelf.recommend.twostage.books import BookFacts
from vibeshelf.recommend.twostage.reader import history_items, reader_vector

FEATURES_VERSION = "twostage-features-2"
BOOK_FEATURES = ("popularity", "mean_rating", "log_ratings_count", "year", "has_description")
READER_FEATURES = ("history_size",)
PAIR_FEATURES = ("n_sources", "genre_overlap", "taste_dot")


def feature_names(sources: Sequence[str]) -> list[str]:
    """The ranker's input columns, in order, for candidates from `sources`."""
    per_source = [f"{column(s)}_{what}" for s in sources for what in ("score", "rank")]
    return [*per_source, *PAIR_FEATURES, *BOOK_FEATURES, *READER_FEATURES]


def column(source: str) -> str:
    """A source's name as a feature column prefix ("item-item" -> "item_item")."""
    return source.replace("-", "_")


@dataclass(frozen=True)
class ReaderRows:
    """One reader's candidates and what their features read: the reader's books (model indices)
    and factor vector (None: none)."""

    user_id: str
    history: np.ndarray
    vector: np.ndarray | None
    proposals: Sequence[Proposal]


class Features(Protocol):
    """The feature stage: one row per (reader, proposal), columns user_id, item_id and features."""

    def __call__(self, profile: Profile, proposals: Sequence[Proposal]) -> pd.DataFrame: ...


class FeatureBuilder:
    """Features from a recommender model (factors, counts) and the catalog's book facts, for any
    reader profile: a model reader, a liked list, or a reader the model does not know."""

    def __init__(
        self, model: RecsModel, facts: Mapping[str, BookFacts], sources: Sequence[str]
    ) -> None:
        self.model = model
        self.sources = tuple(sources)
        blank = BookFacts()
        self.facts = [facts.get(i, blank) for i in model.items.ids]

    def __call__(self, profile: Profile, proposals: Sequence[Proposal]) -> pd.DataFrame:
        history = history_items(self.model, profile)
        vector = reader_vector(self.model, profile)
        return self.frame([ReaderRows(profile.user_id or "", history, vector, proposals)])

    def frame(self, readers: Sequence[ReaderRows]) -> pd.DataFrame:
        """Rows for many readers at once, each reader's rows together."""
        index = self.model.item_index
        proposals = [p for r in readers for p in r.proposals]
        sizes = [len(r.proposals) for r in readers]
        items = np.fromiter((index.get(p.item_id, -1) for p in proposals), np.int64, len(proposals))
        columns: dict[str, np.ndarray] = {}
        for source in self.sources:
            columns[f"{column(source)}_score"] = np.array(
                [p.scores.get(source, np.nan) for p in proposals], np.float64
            )
            columns[f"{column(source)}_rank"] = np.array(
                [p.ranks.get(source, np.nan) for p in proposals], np.float64
            )
        columns["n_sources"] = np.array([len(p.ranks) for p in proposals], np.float64)
        columns["genre_overlap"] = np.concatenate(
            [self._genre_overlap(r.history, items[a:b]) for r, a, b in _spans(readers, sizes)]
            or [np.zeros(0)]
        )
        columns["taste_dot"] = np.concatenate(
            [self._taste_dot(r.vector, items[a:b]) for r, a, b in _spans(readers, sizes)]
            or [np.zeros(0)]
        )
        book = self.book_table[np.where(items >= 0, items, len(self.facts))]
        columns.update({name: book[:, j] for j, name in enumerate(BOOK_FEATURES)})
        columns["history_size"] = np.repeat([float(len(r.history)) for r in readers], sizes)
        frame = pd.DataFrame(
            {
                "user_id": np.repeat([r.user_id for r in readers], sizes),
                "item_id": [p.item_id for p in proposals],
            }
        )
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

    def _genre_overlap(self, history: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Cosine between each book's genres and the reader's genre profile: the sum of the read
        books' unit-length genre vectors (every read book weighs the same)."""
        out = np.zeros(len(items))
        ok = items >= 0
        if len(history) == 0 or not ok.any():
            return out
        g = self.genre_matrix
        profile = np.asarray(g[history].sum(axis=0)).ravel()
        norm = np.linalg.norm(profile)
        if norm > 0:
            out[ok] = g[items[ok]] @ (profile / norm)
        return out

    def _taste_dot(self, vector: np.ndarray | None, items: np.ndarray) -> np.ndarray:
        """The reader vector . each book's factors (NaN without a vector or outside the model)."""
        out = np.full(len(items), np.nan)
        ok = items >= 0
        if vector is not None:
            out[ok] = self.model.item_factors[items[ok]] @ vector
        return out


def _spans(
    readers: Sequence[ReaderRows], sizes: Sequence[int]
) -> list[tuple[ReaderRows, int, int]]:
    """Each reader with the [start, end) of its rows."""
    ends = np.cumsum(sizes)
    return [(r, int(e - n), int(e)) for r, n, e in zip(readers, sizes, ends, strict=True)]
