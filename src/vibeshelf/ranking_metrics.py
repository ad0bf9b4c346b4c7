"""Top-K ranking metrics over per-user ranked lists and held-out sets.

hits[u, r] is 1 when user u's item at rank r+1 is held out for u. Per user, averaged over users:
  HR@K      1 if any of the top K is relevant
  NDCG@K    sum_r hits[u, r] / log2(r + 2)  divided by the ideal  sum_{r < min(|T_u|, K)} 1 / log2(r + 2)
  recall@K  |top K  and  T_u| / |T_u|
  MRR@K     1 / rank of the first relevant item in the top K (0 when none)
  P@K       |top K  and  T_u| / K  (a list shorter than K still divides by K)
Graded nDCG@K takes gains[u, r] = the grade of user u's item at rank r+1 (0 when not relevant) and
u's grades sorted high to low as the ideal: sum_r gains[u, r] / log2(r + 2) over the ideal's sum;
with every grade 1 it is NDCG@K above.
Coverage@K is the share of the item catalog that appears in at least one user's top K.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from collections.abc import Set as AbstractSet

import numpy as np


def hits_matrix(ranked: Sequence[Sequence[Hashable]], relevant: Sequence[AbstractSet[Hashable]]) -> np.ndarray:
    """Boolean users x K: whether each ranked item is among the user's relevant ones."""
    width = max((len(r) for r in ranked), default=0)
    hits = np.zeros((len(ranked), width), dtype=bool)
    for u, (row, rel) in enumerate(zip(ranked, relevant, strict=True)):
        hits[u, : len(row)] = [item in rel for item in row]
    return hits


def hit_rate(hits: np.ndarray, k: int) -> float:
    return float(hits[:, :k].any(axis=1).mean()) if len(hits) else 0.0


def ndcg(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> float:
    if not len(hits):
        return 0.0
    ideal = [[1.0] * int(n) for n in n_relevant]
    return float(graded_ndcg(hits.astype(float), ideal, k).mean())


def gains_matrix(
    ranked: Sequence[Sequence[Hashable]], grades: Sequence[Mapping[Hashable, float]]
) -> np.ndarray:
    """Float users x K: the grade of each ranked item for its user (0 when not graded)."""
    width = max((len(r) for r in ranked), default=0)
    gains = np.zeros((len(ranked), width))
    for u, (row, graded) in enumerate(zip(ranked, grades, strict=True)):
        gains[u, : len(row)] = [graded.get(item, 0.0) for item in row]
    return gains


def graded_ndcg(gains: np.ndarray, ideal: Sequence[Sequence[float]], k: int) -> np.ndarray:
    """Per user, DCG@K of `gains` over the DCG@K of the user's grades sorted high to low."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    top = gains[:, :k]
    dcg = (top * discounts[: top.shape[1]]).sum(axis=1)
    best = np.array([
        float(np.dot(sorted(g, reverse=True)[:k], discounts[: min(len(g), k)])) for g in ideal
    ])
    return np.divide(dcg, best, out=np.zeros_like(dcg), where=best > 0)


def precision(hits: np.ndarray, k: int) -> np.ndarray:
    """Per user, the share of the top K that is relevant (K the denominator even if fewer shown)."""
    return hits[:, :k].sum(axis=1) / k


def reciprocal_ranks(hits: np.ndarray, k: int) -> np.ndarray:
    """Per user, 1 / rank of the first relevant item in the top K (0 when none)."""
    top = hits[:, :k]
    return np.where(top.any(axis=1), 1.0 / (top.argmax(axis=1) + 1), 0.0)


def mrr(hits: np.ndarray, k: int) -> float:
    return float(reciprocal_ranks(hits, k).mean()) if len(hits) else 0.0


def recall(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> float:
    return float(recalls(hits, n_relevant, k).mean()) if len(hits) else 0.0


def recalls(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per user, the share of the user's relevant items in the top K."""
    return hits[:, :k].sum(axis=1) / n_relevant


def coverage(ranked: Sequence[Sequence[Hashable]], k: int, n_items: int) -> float:
    shown = {item for row in ranked for item in row[:k]}
    return len(shown) / n_items if n_items else 0.0
