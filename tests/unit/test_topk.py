"""best_first gives the head of a full stable sort, ties at the cut included."""

import numpy as np
import pytest

from vibeshelf.search.topk import best_first, best_passing


@pytest.mark.parametrize("k", [1, 3, 5, 20])
def test_head_matches_a_full_stable_sort(k: int) -> None:
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 6, 40).astype(np.float32)  # many ties
    full = np.argsort(-scores, kind="stable")
    head = best_first(scores, k)
    assert len(head) >= min(k, len(scores))
    assert head.tolist() == full[: len(head)].tolist()
    assert set(scores[head]) >= {scores[full[k - 1]]}


def test_only_the_given_rows_are_ranked() -> None:
    scores = np.array([0.1, 0.9, 0.5, 0.9, 0.3])
    assert best_first(scores, 2, np.array([0, 2, 3])).tolist() == [3, 2]
    assert best_first(scores, 10).tolist() == [1, 3, 2, 4, 0]


def test_best_passing_is_the_first_k_of_the_full_order_that_pass() -> None:
    rng = np.random.default_rng(5)
    scores = rng.integers(0, 8, 60).astype(np.float32)
    full = np.argsort(-scores, kind="stable").tolist()
    for passes in (None, lambda row: row % 2 == 0, lambda row: row % 7 == 0, lambda row: False):
        expected = [row for row in full if passes is None or passes(row)][:10]
        assert best_passing(scores, 10, passes) == expected  # type: ignore[arg-type]
    rows = np.array([3, 4, 9, 20, 41])
    assert best_passing(scores, 2, lambda row: row != 9, rows) == [
        r for r in np.asarray(rows)[np.argsort(-scores[rows], kind="stable")].tolist() if r != 9
    ][:2]
