"""Cold start from shelves: regress item factors on shelf features, then shrink sparse items toward it.

Shelf features are TF-IDF weights of an item's shelves (L2-normalised rows). A ridge regression
W = argmin |S_w W - Y_w|^2 + ridge |W|^2 is fitted on items that have interactions; then every item
gets y_i = w_i * y_i(ALS) + (1 - w_i) * s_i W with w_i = n_i / (n_i + shrinkage), n_i its users,
so an item nobody interacted with is placed purely by its shelves.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def shelf_features(genres: list[list[str]], min_items: int = 2) -> sp.csr_matrix:
    """Items x shelves TF-IDF, rows L2-normalised; shelves on fewer than `min_items` items are left out."""
    vocab_counts: dict[str, int] = {}
    for shelves in genres:
        for shelf in set(shelves):
            vocab_counts[shelf] = vocab_counts.get(shelf, 0) + 1
    vocab = {
        s: j for j, s in enumerate(sorted(s for s, n in vocab_counts.items() if n >= min_items))
    }
    rows, cols = [], []
    for i, shelves in enumerate(genres):
        for j in sorted({vocab[s] for s in shelves if s in vocab}):
            rows.append(i)
            cols.append(j)
    n_items = len(genres)
    df = np.array([vocab_counts[s] for s in vocab], dtype=np.float64)
    idf = np.log((1 + n_items) / (1 + df)) + 1.0
    matrix = sp.csr_matrix((idf[cols], (rows, cols)), shape=(n_items, len(vocab)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    return sp.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ matrix


def shelf_regression(
    features: sp.csr_matrix, factors: np.ndarray, counts: np.ndarray, ridge: float
) -> np.ndarray:
    """Factors predicted from shelves for every item, fitted on the items with interactions."""
    warm = (counts > 0) & (features.getnnz(axis=1) > 0)
    if not warm.any() or features.shape[1] == 0:
        return np.zeros_like(factors)
    s = features[warm]
    gram = (s.T @ s).toarray() + ridge * np.eye(features.shape[1])
    weights = np.linalg.solve(gram, s.T @ factors[warm].astype(np.float64))
    return np.asarray(features @ weights, dtype=factors.dtype)


def blend(
    factors: np.ndarray, predicted: np.ndarray, counts: np.ndarray, shrinkage: float
) -> np.ndarray:
    """Shrink each item's factors toward its shelf prediction by n / (n + shrinkage)."""
    n = counts.astype(np.float64)
    denominator = n + shrinkage
    weight = np.divide(n, denominator, out=(n > 0).astype(np.float64), where=denominator > 0)
    return (weight[:, None] * factors + (1.0 - weight[:, None]) * predicted).astype(factors.dtype)
