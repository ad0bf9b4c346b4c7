"""Best-first rows of a score array, ties broken by row, without sorting every row."""

from __future__ import annotations

import itertools
from collections.abc import Callable

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


def best_passing(
    scores: np.ndarray, k: int, passes: Callable[[int], bool] | None, rows: np.ndarray | None = None
) -> list[int]:
    """The first k of `rows` (all by default) in best_first order that `passes` accepts (every row
    when None): the k-best head first, the full order only when too few of the head pass."""
    head = best_first(scores, k, rows)
    if passes is None:
        return head[:k].tolist()  # type: ignore[no-any-return]
    kept = [row for row in head.tolist() if passes(row)][:k]
    total = len(scores) if rows is None else len(rows)
    if len(kept) < k and len(head) < total:
        everything = best_first(scores, total, rows)
        kept = list(itertools.islice((r for r in everything.tolist() if passes(r)), k))
    return kept
