"""The ranker's training features: a Feast repo of the split's training part, read point in time.

`train ranker` fits the ranker on held-out books, so the book and reader views must not have seen
them: the training part of the split is written as the views' Parquet sources of a Feast repo of
its own (the same definitions, a scratch directory), and every candidate row is joined with
`get_historical_features`, stamped after that snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import pandas as pd
import pyarrow as pa
from feast import FeatureStore

from vibeshelf.recommend.dataset import Interactions
from vibeshelf.recommend.features.client import historical
from vibeshelf.recommend.features.definitions import view_objects
from vibeshelf.recommend.features.materialize import write_sources
from vibeshelf.recommend.features.repo import SOURCES_DIR, FeatureRepo
from vibeshelf.recommend.retrieval import Proposal
from vibeshelf.recommend.twostage.features import (
    BOOK_FEATURES,
    BOOK_REFS,
    READER_FEATURES,
    READER_REFS,
    ranker_frame,
)
from vibeshelf.settings import Settings


class HistoricalFeatures:
    """Feature rows of many readers' candidates from a store's offline views."""

    def __init__(self, store: FeatureStore, sources: Sequence[str]) -> None:
        self.store = store
        self.sources = list(sources)

    def frame(self, readers: Sequence[tuple[str, Sequence[Proposal]]]) -> pd.DataFrame:
        """Rows for (user_id, proposals) pairs, each reader's rows together, stamped now."""
        users = [user for user, found in readers for _ in found]
        proposals = [p for _, found in readers for p in found]
        rows = pd.DataFrame({"user_id": users, "item_id": [p.item_id for p in proposals]})
        joined = historical(self.store, rows, [*BOOK_REFS, *READER_REFS])
        books = joined[list(BOOK_FEATURES)].to_numpy(np.float64, na_value=np.nan)
        readers_values = joined[list(READER_FEATURES)].to_numpy(np.float64, na_value=np.nan)
        return ranker_frame(users, proposals, books, readers_values, self.sources)


@contextmanager
def training_store(
    settings: Settings, repo: FeatureRepo, train: Interactions, rows: pa.Table
) -> Iterator[FeatureStore]:
    """A Feast store, for the time of the block, whose views hold the features of `train` (the
    split's training part; `rows` the source's rows, for recency) as of now. Its online store
    is a scratch SQLite file whatever `repo` configures: nothing is served from it. Only the book
and reader views are registered (the reader x book features are `pair_features` on their rows)."""
    settings.features_dir.mkdir(parents=True, exist_ok=True)
    with TemporaryDirectory(prefix="training-", dir=settings.features_dir) as scratch:
        local = FeatureRepo(
            Path(scratch), repo.settings.model_copy(update={"url": "sqlite://"})
        )
        write_sources(settings, local, train, rows, datetime.now(UTC).replace(microsecond=0))
        local.write()
        store = local.open()
        store.apply(view_objects(SOURCES_DIR))  # the views it joins; reader x book is computed
        yield store
