"""ALS: reproducible factors, CG that reaches the exact solve, an exact fold-in, structure recovery."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from vibeshelf.recommend.models.als import AlsParams, _half_step, fit_als, fold_in, gramian


def random_confidence(
    n_users: int = 60, n_items: int = 40, density: float = 0.1, seed: int = 0
) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    values = np.where(mask, 1 + 20 * rng.random((n_users, n_items)), 0.0)
    return sp.csr_matrix(values.astype(np.float32))


def exact_rows(conf: sp.csr_matrix, y: np.ndarray, reg: float) -> np.ndarray:
    """Per-row normal equations solved directly: (Y'C_uY + reg I) x = Y'C_u p."""
    dense = conf.toarray().astype(np.float64)
    out = []
    for row in dense:
        c = np.where(row > 0, row, 1.0)
        p = (row > 0).astype(np.float64)
        a = (y.T * c) @ y + reg * np.eye(y.shape[1])
        out.append(np.linalg.solve(a, (y.T * c) @ p))
    return np.array(out)


def test_same_seed_gives_identical_factors() -> None:
    conf = random_confidence()
    params = AlsParams(factors=8, regularization=1.0, iterations=5, seed=3)
    u1, i1 = fit_als(conf, params)
    u2, i2 = fit_als(conf, params)
    assert np.array_equal(u1, u2) and np.array_equal(i1, i2)
    u3, _ = fit_als(conf, AlsParams(factors=8, regularization=1.0, iterations=5, seed=4))
    assert not np.array_equal(u1, u3)


def test_conjugate_gradient_reaches_the_exact_solution() -> None:
    conf = random_confidence()
    rng = np.random.default_rng(1)
    y = rng.standard_normal((conf.shape[1], 6)).astype(np.float32)
    start = np.zeros((conf.shape[0], 6), np.float32)
    solved = _half_step(conf, start, y, reg=0.5, steps=12)
    np.testing.assert_allclose(solved, exact_rows(conf, y.astype(np.float64), 0.5), atol=1e-3)


def test_fold_in_is_the_exact_least_squares_vector() -> None:
    rng = np.random.default_rng(2)
    items = rng.standard_normal((30, 5)).astype(np.float32)
    liked = np.array([3, 7, 11])
    confidence = np.array([41.0, 41.0, 11.0])
    row = np.zeros(30)
    row[liked] = confidence
    expected = exact_rows(sp.csr_matrix(row), items.astype(np.float64), reg=2.0)[0]
    gram_inverse = np.linalg.inv(gramian(items, 2.0).astype(np.float64))
    got = fold_in(items, gram_inverse, liked, confidence)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    unweighted = fold_in(items, gram_inverse, liked, np.ones(3))  # C - I = 0: x = G^-1 Y'1
    np.testing.assert_allclose(unweighted, gram_inverse @ items[liked].sum(axis=0), rtol=1e-4)


def test_recovers_two_reader_groups() -> None:
    """Users 0-19 read items 0-9, users 20-39 items 10-19; a user's unseen items come from their group."""
    rng = np.random.default_rng(5)
    dense = np.zeros((40, 20), np.float32)
    for u in range(40):
        block = range(10) if u < 20 else range(10, 20)
        for i in rng.choice(list(block), size=6, replace=False):
            dense[u, i] = 11.0
    users, items = fit_als(
        sp.csr_matrix(dense), AlsParams(factors=4, regularization=0.1, iterations=10, seed=1)
    )
    for u in (0, 25):
        scores = items @ users[u]
        scores[dense[u] > 0] = -np.inf
        top = np.argsort(-scores)[:4]
        group = set(range(10)) if u < 20 else set(range(10, 20))
        assert set(top) <= group
