"""eval/fit_rerank.py: the training metric against hand-computed values, and fits that must find
a feature which ranks the relevant book first."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tests.conftest import eval_script

fit_rerank = eval_script("fit_rerank")


def one_query(x: list[list[float]], relevant: list[bool], kind: str) -> tuple[np.ndarray, np.ndarray, str]:
    return np.array(x, dtype=np.float64), np.array(relevant), kind


def test_mrr_is_the_mean_over_kinds_of_each_kinds_mean() -> None:
    # One feature; candidates are ordered by it, high first, ties keeping their order.
    data = [
        one_query([[3], [2], [1]], [False, True, False], "shelf"),  # rank 2
        one_query([[3], [2], [1]], [True, False, False], "shelf"),  # rank 1
        one_query([[1], [1], [5]], [False, True, False], "tip"),  # ranks: c, a, b -> 3
    ]
    assert fit_rerank.mrr(np.array([1.0]), data) == pytest.approx(((1 / 2 + 1) / 2 + 1 / 3) / 2)
    # A relevant book below rank 10 scores 0.
    deep = one_query([[20 - i] for i in range(20)], [i == 10 for i in range(20)], "tip")
    assert fit_rerank.mrr(np.array([1.0]), [deep]) == 0.0
    assert fit_rerank.mrr(np.array([-1.0]), [deep]) == pytest.approx(1 / 10)


def synthetic(n_queries: int, seed: int) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """Queries of 30 candidates and two features: the first is noise, the second is highest for
    the one relevant book."""
    rng = np.random.default_rng(seed)
    data = []
    for q in range(n_queries):
        relevant = np.zeros(30, dtype=bool)
        relevant[rng.integers(30)] = True
        informative = rng.random(30) * 0.5 + relevant
        data.append((np.column_stack([rng.random(30), informative]), relevant, ("shelf", "tip")[q % 2]))
    return data


def test_logistic_regression_weighs_the_informative_feature() -> None:
    weights = fit_rerank.fit_logistic(synthetic(40, seed=1))
    assert weights[1] > 0 and abs(weights[1]) > 5 * abs(weights[0])


def test_coordinate_ascent_climbs_from_a_bad_start() -> None:
    data = synthetic(40, seed=2)
    start = np.array([1.0, 0.0])  # the noise feature alone
    fitted = fit_rerank.fit_coordinate_ascent(data, start)
    assert fit_rerank.mrr(start, data) < 0.5
    assert fit_rerank.mrr(fitted, data) == pytest.approx(1.0)


def test_cross_validation_scores_held_out_folds() -> None:
    data = synthetic(50, seed=3)
    assert fit_rerank.cross_validated("coordinate-ascent", data) == pytest.approx(1.0)
    # Labels that no feature predicts: held-out folds score far below the perfect training fit.
    rng = np.random.default_rng(4)
    shuffled = [(x, rng.permutation(y), kind) for x, y, kind in data]
    assert fit_rerank.cross_validated("logistic", shuffled) < 0.6


def test_blurb_query_is_a_window_of_the_blurb_without_title_words() -> None:
    blurb = " ".join(f"word{i} Gatsby's 'great" for i in range(100))
    query = fit_rerank.blurb_query("The Great Gatsby", blurb, random.Random(7)).split()
    assert not [w for w in query if "gatsby" in w.lower() or "great" in w.lower()]
    positions = [int(w.removeprefix("word")) for w in query if w.startswith("word")]
    assert positions == sorted(positions) and positions[-1] - positions[0] < 40
    assert 15 <= len(query) < 40  # about a third of a 40-word window is dropped
    assert query == fit_rerank.blurb_query("The Great Gatsby", blurb, random.Random(7)).split()
