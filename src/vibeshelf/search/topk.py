"""Best-first rows of a score array, ties broken by row, without sorting every row."""

from __future__ import annotations

import numpy as np


def best_first(scores: np.ndarray, k: int, rows: np.ndarray | None = None) -> np.ndarray:
    """`rows` (ascending; all by default) ordered by score, best first, ties by row: the same
    head as a full stable sort. At least the k best are returned (every row tied with the k-th
    too), more only when there are ties at the cut."""
    rows = np.arange(len(scores)) if rows is None else rows
    values = scores[rows]
    if 0 < k < len(rows):
        cut = np.partition(values, len(rows) - k)[len(rows) - k]
        keep = values >= cut
        rows, values = rows[keep], values[keep]
    return rows[np.argsort(-values, kind="stable")]
