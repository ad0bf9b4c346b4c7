"""The ranker's feature rows, from the Feast views alike in training and serving.

A row is a (reader, candidate book): the book view's features, the reader view's features and the
reader x book features of the one on-demand function `pair_features` (each source's score and
rank, taste cosine, genre overlap). Training reads the views with `get_historical_features`
(`HistoricalFeatures`), serving with `get_online_features` (`StoreFeatures`); both hand the values
to `ranker_frame`. FEATURES_VERSION names this layout; a ranker records it with the Feast views'
versions (`view_versions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pandas as pd

from vibeshelf.recommend.features.definitions import (
    AFFINITY_COLUMNS,
    BOOK_FLOATS,
    BOOK_INTS,
    BOOKS_VIEW,
    GENRE_COLUMNS,
    READER_FLOATS,
    READER_INTS,
    READERS_VIEW,
    TASTE_COLUMNS,
    TEXT_COLUMNS,
    pair_columns,
    rank_column,
    score_column,
)
from vibeshelf.recommend.features.pairs import pair_features
from vibeshelf.recommend.retrieval import Proposal
from vibeshelf.recommend.sources import Profile

FEATURES_VERSION = "twostage-features-3"
BOOK_FEATURES: tuple[str, ...] = (*BOOK_INTS, *BOOK_FLOATS)
READER_FEATURES: tuple[str, ...] = (*READER_INTS, *READER_FLOATS)
BOOK_REFS = [f"{BOOKS_VIEW}:{name}" for name in BOOK_FEATURES]
READER_REFS = [f"{READERS_VIEW}:{name}" for name in READER_FEATURES]
_BOOK_AT = {name: j for j, name in enumerate(BOOK_FEATURES)}
_READER_AT = {name: j for j, name in enumerate(READER_FEATURES)}


def column(source: str) -> str:
    """A source's name as a feature column prefix ("item-item" -> "item_item")."""
    return source.replace("-", "_")


def feature_names(sources: Sequence[str]) -> list[str]:
    """The ranker's input columns, in order, for candidates from `sources`."""
    return [*BOOK_FEATURES, *READER_FEATURES, *pair_columns([column(s) for s in sources])]


class Features(Protocol):
    """The feature stage: one row per (reader, proposal), columns user_id, item_id and features."""

    def __call__(self, profile: Profile, proposals: Sequence[Proposal]) -> pd.DataFrame: ...


def ranker_frame(
    users: Sequence[str],
    proposals: Sequence[Proposal],
    books: np.ndarray,
    readers: np.ndarray,
    sources: Sequence[str],
) -> pd.DataFrame:
    """user_id, item_id and `feature_names(sources)` for rows of (users[i], proposals[i]), given
    their book view values (rows x BOOK_FEATURES) and reader view values (rows x
    READER_FEATURES; NaN where a view has no row)."""
    inputs: dict[str, np.ndarray] = {}
    for source in sources:
        inputs[score_column(column(source))] = np.array(
            [p.scores.get(source, np.nan) for p in proposals], np.float64
        )
        inputs[rank_column(column(source))] = np.array(
            [p.ranks.get(source, np.nan) for p in proposals], np.float64
        )
    for name in (*GENRE_COLUMNS, *TEXT_COLUMNS):
        inputs[name] = books[:, _BOOK_AT[name]]
    for name in (*AFFINITY_COLUMNS, *TASTE_COLUMNS):
        inputs[name] = readers[:, _READER_AT[name]]
    pairs = pair_features(pd.DataFrame(inputs))[pair_columns([column(s) for s in sources])]
    values = np.hstack([books, readers, pairs.to_numpy(np.float64)])
    frame = pd.DataFrame(values, columns=feature_names(sources))
    frame.insert(0, "item_id", [p.item_id for p in proposals])
    frame.insert(0, "user_id", list(users))
    return frame
