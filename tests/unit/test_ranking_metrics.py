"""Ranking metrics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vibeshelf import ranking_metrics

RANKED = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
RELEVANT = [{2}, {4, 6, 10}, {99}]


@pytest.fixture
def hits() -> np.ndarray:
    return ranking_metrics.hits_matrix(RANKED, RELEVANT)


def n_relevant() -> np.ndarray:
    return np.array([len(r) for r in RELEVANT])


def test_hits_matrix(hits: np.ndarray) -> None:
    assert hits.tolist() == [[False, True, False], [True, False, True], [False, False, False]]


def test_hit_rate(hits: np.ndarray) -> None:
    assert ranking_metrics.hit_rate(hits, 3) == pytest.approx(2 / 3)
    assert ranking_metrics.hit_rate(hits, 1) == pytest.approx(1 / 3)


def test_ndcg(hits: np.ndarray) -> None:
    user0 = (1 / math.log2(3)) / 1.0  # hit at rank 2; one relevant item
    user1 = (1 + 1 / math.log2(4)) / (
        1 + 1 / math.log2(3) + 1 / math.log2(4)
    )  # ranks 1 and 3; 3 relevant
    assert ranking_metrics.ndcg(hits, n_relevant(), 3) == pytest.approx((user0 + user1 + 0) / 3)
    assert ranking_metrics.ndcg(hits, n_relevant(), 1) == pytest.approx(1 / 3)


def test_recall(hits: np.ndarray) -> None:
    assert ranking_metrics.recall(hits, n_relevant(), 3) == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert ranking_metrics.recall(hits, n_relevant(), 2) == pytest.approx((1 + 1 / 3 + 0) / 3)


def test_coverage() -> None:
    assert ranking_metrics.coverage(RANKED, 2, n_items=20) == pytest.approx(6 / 20)
    assert ranking_metrics.coverage(RANKED, 3, n_items=9) == pytest.approx(1.0)


def test_perfect_ranking_scores_one() -> None:
    hits = ranking_metrics.hits_matrix([[1, 2], [3, 4]], [{1, 2}, {3}])
    assert ranking_metrics.ndcg(hits, np.array([2, 1]), 2) == pytest.approx(1.0)
    assert ranking_metrics.hit_rate(hits, 2) == 1.0


def test_no_users_scores_zero() -> None:
    hits = ranking_metrics.hits_matrix([], [])
    assert ranking_metrics.hit_rate(hits, 10) == ranking_metrics.ndcg(hits, np.array([], int), 10) == 0.0


def test_precision_divides_by_k_even_when_fewer_are_shown(hits: np.ndarray) -> None:
    assert ranking_metrics.precision(hits, 3).tolist() == pytest.approx([1 / 3, 2 / 3, 0])
    assert ranking_metrics.precision(hits, 10).tolist() == pytest.approx([0.1, 0.2, 0])


def test_graded_ndcg_against_hand_computed_gains() -> None:
    gains = ranking_metrics.gains_matrix([["a", "b", "c"], ["x"]], [{"b": 2, "c": 1, "d": 1}, {"y": 2}])
    assert gains.tolist() == [[0, 2, 1], [0, 0, 0]]
    ideal = [[2, 1, 1], [2]]
    dcg = 2 / math.log2(3) + 1 / math.log2(4)
    best = 2 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ranking_metrics.graded_ndcg(gains, ideal, 3).tolist() == pytest.approx([dcg / best, 0])
    # a cut-off of 1 sees only the first result, against the single best grade
    assert ranking_metrics.graded_ndcg(gains, ideal, 1).tolist() == [0, 0]


def test_binary_ndcg_is_graded_ndcg_with_every_grade_one(hits: np.ndarray) -> None:
    graded = ranking_metrics.graded_ndcg(hits.astype(float), [[1.0] * len(r) for r in RELEVANT], 3)
    assert ranking_metrics.ndcg(hits, n_relevant(), 3) == pytest.approx(graded.mean())
    assert ranking_metrics.recalls(hits, n_relevant(), 3).tolist() == pytest.approx([1, 2 / 3, 0])
