"""What the ranker reads: the same features, in the same order, for training and for serving."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from feast import FeatureStore

from vibeshelf.recommend.features.definitions import (
    TIMESTAMP,
    feature_refs,
    rank_column,
    score_column,
)
from vibeshelf.recommend.features.repo import FeatureRepo

KEYS = ["user_id", "item_id"]


def historical(store: FeatureStore, rows: pd.DataFrame, refs: list[str]) -> pd.DataFrame:
    """`get_historical_features` of `refs` for the entity `rows` (user_id, item_id, optional
    event_timestamp: now when absent), point in time: the rows in their order with their columns
    and the features; a row stamped before the features were materialized gets NaN features."""
    query = rows.reset_index(drop=True).copy()
    stamps = query[TIMESTAMP] if TIMESTAMP in query else pd.Timestamp(datetime.now(UTC))
    # Feast's file store keeps one row per (join keys so far, timestamp): two readers of a book
    # at one instant would lose a row, so each row's timestamp is made unique (+1 us a row).
    order = np.arange(len(query))
    query[TIMESTAMP] = pd.to_datetime(stamps, utc=True) + pd.to_timedelta(order, unit="us")
    query["_row"] = order
    joined = store.get_historical_features(entity_df=query, features=refs).to_df()
    # It also drops a row whose features all postdate it: back, with NaN features.
    return joined.set_index("_row").reindex(order).reset_index(drop=True)


class FeatureStoreClient:
    """Feature rows of (reader, book) pairs from a materialized Feast repo."""

    def __init__(self, repo: FeatureRepo) -> None:
        self.sources = list(repo.settings.sources)
        self.refs = feature_refs(self.sources)
        self.store = repo.open()

    @property
    def feature_names(self) -> list[str]:
        """Feature column names, in the order both frames return them."""
        return [ref.split(":", 1)[1] for ref in self.refs]

    @property
    def request_fields(self) -> list[str]:
        """Per-candidate request data: each source's score and rank (missing: not proposed)."""
        return [c for s in self.sources for c in (score_column(s), rank_column(s))]

    def training_frame(self, entity_df: pd.DataFrame) -> pd.DataFrame:
        """`entity_df` (user_id, item_id, optional event_timestamp and request fields, any extra
        columns such as labels) joined point-in-time with the offline store: its rows in order,
        its own columns first, then `feature_names`. A missing timestamp means now; a row stamped
        before the features were materialized has NaN features."""
        rows = entity_df.reset_index(drop=True)
        own = [c for c in rows.columns if c not in self.feature_names]
        query = rows[own].copy()
        for field in self.request_fields:
            if field not in query:
                query[field] = np.nan
        joined = historical(self.store, query, self.refs)
        return pd.concat([rows[own], self._features(joined)], axis=1)

    def serving_frame(
        self,
        user_id: str,
        item_ids: Sequence[str],
        request_data: Mapping[str, Sequence[float | None]] | None = None,
    ) -> pd.DataFrame:
        """The online store's features of `user_id` with each book of `item_ids`: user_id,
        item_id, then `feature_names`. `request_data` maps request fields to one value per
        book (None where that source did not propose it); fields left out count as missing."""
        given = dict(request_data or {})
        unknown = sorted(set(given) - set(self.request_fields))
        if unknown:
            raise ValueError(f"unknown request fields {unknown}; expected {self.request_fields}")
        entity_rows: dict[str, list[str] | list[float]] = {
            "user_id": [user_id] * len(item_ids),
            "item_id": list(item_ids),
        }
        for field in self.request_fields:
            values = given.get(field, [None] * len(item_ids))
            if len(values) != len(item_ids):
                raise ValueError(f"{field} has {len(values)} values for {len(item_ids)} books")
            entity_rows[field] = [np.nan if v is None else float(v) for v in values]
        served = self.store.get_online_features(features=self.refs, entity_rows=entity_rows)
        frame = served.to_df()
        return pd.concat([frame[KEYS], self._features(frame)], axis=1)

    def _features(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The feature columns in order, as float64 (absent book or reader: NaN)."""
        return frame[self.feature_names].astype(np.float64).reset_index(drop=True)
