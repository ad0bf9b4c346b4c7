"""The ranker's serving features: the online store's reader row per request, its book rows in memory.

Every book row is read once with `get_online_features` and kept as an array; a new materialization
(the registry file changes) reloads them. The reader's row is read per request; a reader the store
does not hold (a liked list, a reader newer than the features) gets the row the reader view would
give them, from the books they read. The reader x book features come from the same function as in
training (`ranker_frame`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.features.definitions import GENRE_COLUMNS, TEXT_COLUMNS
from vibeshelf.recommend.features.readers import profile_reader
from vibeshelf.recommend.features.repo import REGISTRY_FILE, FeatureRepo
from vibeshelf.recommend.retrieval import Proposal
from vibeshelf.recommend.sources import Profile
from vibeshelf.recommend.twostage.features import (
    BOOK_FEATURES,
    BOOK_REFS,
    READER_FEATURES,
    READER_REFS,
    ranker_frame,
)
from vibeshelf.recommend.twostage.reader import RequestHistory
from vibeshelf.storage.errors import StorageError


class FeaturesNotMaterializedError(FileNotFoundError):
    """The online store holds no book features: `vibeshelf features materialize` has not run."""


class FeatureStoreUnavailableError(StorageError):
    """The online store could not be read (a Redis or SQLite error): the caller falls back."""


def _unreachable() -> tuple[type[BaseException], ...]:
    """What a failed online read raises: OS and SQLite errors, and Redis' when it is installed."""
    try:
        from redis.exceptions import RedisError
    except ImportError:
        return (OSError, sqlite3.Error)
    return (OSError, sqlite3.Error, RedisError)


UNREACHABLE = _unreachable()


def online_read(read: Callable[[], Any]) -> dict[str, list[object]]:
    """`read()` (a `get_online_features` call) as a dict; FeatureStoreUnavailableError when the
    store cannot be reached."""
    try:
        return read().to_dict()  # type: ignore[no-any-return]
    except UNREACHABLE as exc:
        raise FeatureStoreUnavailableError(f"the online feature store failed: {exc}") from exc


def online_values(rows: dict[str, list[object]], names: Sequence[str]) -> np.ndarray:
    """`get_online_features(...).to_dict()` columns as a float array (rows x names; None: NaN)."""
    return np.array(
        [[np.nan if v is None else v for v in rows[name]] for name in names], np.float64
    ).T.reshape(-1, len(names))


class StoreFeatures:
    """The feature stage of the served pipeline over a materialized Feast repo."""

    def __init__(
        self,
        repo: FeatureRepo,
        model: RecsModel,
        sources: Sequence[str],
        history: Callable[[Profile], np.ndarray] | None = None,
    ) -> None:
        self.repo = repo
        self.model = model
        self.sources = list(sources)
        self.history = history or RequestHistory(model)
        self.store = repo.open()
        self.registry = repo.root / REGISTRY_FILE
        self.stamp = -1
        self.refresh()

    def refresh(self) -> bool:
        """Reload the book rows when the store was materialized since they were read."""
        stamp = self.registry.stat().st_mtime_ns if self.registry.is_file() else -1
        if stamp == self.stamp:
            return False
        self.store.refresh_registry()
        ids = list(dict.fromkeys(self.model.items.ids))
        served = online_read(lambda: self.store.get_online_features(
            features=BOOK_REFS, entity_rows=[{"item_id": i} for i in ids]
        ))
        values = online_values(served, BOOK_FEATURES)
        if np.isnan(values).all():
            raise FeaturesNotMaterializedError(
                f"no book features in the feature store in {self.repo.root}: "
                "run `vibeshelf features materialize`"
            )
        self.book_row = {item: j for j, item in enumerate(ids)}
        self.books = np.vstack([values, np.full(len(BOOK_FEATURES), np.nan)])
        self.genre_at = [BOOK_FEATURES.index(c) for c in GENRE_COLUMNS]
        self.text_at = [BOOK_FEATURES.index(c) for c in TEXT_COLUMNS]
        self.stamp = stamp
        return True

    def __call__(self, profile: Profile, proposals: Sequence[Proposal]) -> pd.DataFrame:
        self.refresh()
        missing = len(self.books) - 1
        rows = np.fromiter(
            (self.book_row.get(p.item_id, missing) for p in proposals), np.int64, len(proposals)
        )
        reader = np.broadcast_to(self.reader(profile), (len(proposals), len(READER_FEATURES)))
        user = profile.user_id or ""
        return ranker_frame(
            [user] * len(proposals), proposals, self.books[rows], reader, self.sources
        )

    def reader(self, profile: Profile) -> np.ndarray:
        """The reader view's row: the online store's for a reader it holds (no liked list), else
        one from the books the profile read."""
        if profile.user_id is not None and not profile.liked:
            served = online_read(lambda: self.store.get_online_features(
                features=READER_REFS, entity_rows=[{"user_id": profile.user_id}]
            ))
            row = online_values(served, READER_FEATURES)[0]
            if not np.isnan(row).all():
                return row
        ids = self.model.items.ids
        read = [self.book_row[ids[i]] for i in self.history(profile) if ids[i] in self.book_row]
        books = self.books[read]
        return profile_reader(books[:, self.genre_at], books[:, self.text_at])
