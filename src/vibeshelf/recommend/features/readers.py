"""Reader features: history size, mean rating, genre shares, recency and taste (mean text summary)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from vibeshelf.recommend.dataset import Interactions
from vibeshelf.recommend.features.books import rating_means
from vibeshelf.recommend.features.definitions import AFFINITY_COLUMNS, TASTE_COLUMNS, TIMESTAMP

UNKNOWN_RECENCY = -1.0


def days_since_last(rows: pa.Table, users: list[str], as_of: datetime) -> np.ndarray:
    """Days from each user's last timestamped event to `as_of`; UNKNOWN_RECENCY without one."""
    last = rows.select(["user_id", "ts"]).group_by("user_id").aggregate([("ts", "max")])
    seen = {
        u: t for u, t in zip(last["user_id"].to_pylist(), last["ts_max"].to_pylist(), strict=True)
        if t is not None
    }
    naive = as_of.replace(tzinfo=None)
    return np.array(
        [(naive - seen[u]).total_seconds() / 86400 if u in seen else UNKNOWN_RECENCY for u in users]
    )


def reader_features(
    interactions: Interactions,
    genres: np.ndarray,
    text: np.ndarray,
    recency: np.ndarray,
    as_of: datetime,
) -> pd.DataFrame:
    """One row per reader; `genres` (items x GENRES) and `text` (items x dims) are row-aligned
    with the interactions' items, `recency` with its users."""
    m = interactions.strengths
    sizes = np.diff(m.indptr)
    rows = np.repeat(np.arange(m.shape[0]), sizes)
    read = m.copy()
    read.data = np.ones_like(read.data)
    per_reader = np.maximum(sizes, 1)[:, None]
    frame = pd.DataFrame({
        "user_id": interactions.users,
        "reader_history_size": sizes.astype(np.int64),
        "reader_mean_rating": rating_means(m.data, rows, m.shape[0]),
        "reader_days_since_last": recency,
    })
    frame[list(AFFINITY_COLUMNS)] = np.asarray(read @ genres, np.float64) / per_reader
    frame[list(TASTE_COLUMNS)] = np.asarray(read @ text, np.float64) / per_reader
    frame[TIMESTAMP] = pd.Timestamp(as_of)
    return frame


def profile_reader(genres: np.ndarray, text: np.ndarray) -> np.ndarray:
    """The reader view's row (READER_INTS then READER_FLOATS) of a reader the store does not hold,
    from the genre and text rows of the books they read, as `reader_features` computes it for a
    reader without ratings or timestamps."""
    per_reader = max(len(genres), 1)
    return np.concatenate([
        [float(len(genres)), 0.0, UNKNOWN_RECENCY],
        np.asarray(genres, np.float64).sum(axis=0) / per_reader,
        np.asarray(text, np.float64).sum(axis=0) / per_reader,
    ])
