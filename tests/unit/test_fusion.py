"""Reciprocal rank fusion against hand-computed scores."""

from __future__ import annotations

import pytest

from vibeshelf.search.fusion import rrf


def test_scores_are_sums_of_reciprocal_ranks() -> None:
    fused = dict(rrf([["a", "b", "c"], ["c", "a"]], k=10))
    assert fused["a"] == pytest.approx(1 / 11 + 1 / 12)
    assert fused["b"] == pytest.approx(1 / 12)
    assert fused["c"] == pytest.approx(1 / 13 + 1 / 11)


def test_order_is_by_fused_score_then_best_rank_then_id() -> None:
    # b and x tie on score (each second in one list); y and a too; d is alone and last.
    order = [item for item, _ in rrf([["a", "b", "d"], ["y", "x"]], k=1)]
    assert order == ["a", "y", "b", "x", "d"]


def test_a_book_in_both_lists_beats_one_that_tops_only_one() -> None:
    order = [item for item, _ in rrf([["solo", "both"], ["both"]], k=60)]
    assert order[0] == "both"


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        rrf([["a"]], k=0)
