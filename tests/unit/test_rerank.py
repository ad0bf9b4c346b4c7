"""The learned rerank: the shipped weights load, and scores order candidates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vibeshelf.search.rerank import FEATURES, Reranker, RerankWeightsError


def test_shipped_weights_cover_every_feature() -> None:
    reranker = Reranker.load()
    assert reranker.weights.shape == (len(FEATURES),)
    assert np.isfinite(reranker.weights).all() and reranker.weights.any()


def test_fused_weights_sum_the_two_reciprocal_ranks() -> None:
    weights = dict(zip(FEATURES, Reranker.fused().weights, strict=True))
    assert {f for f, w in weights.items() if w} == {"vector_rr", "lexical_rr"}


def test_order_is_by_linear_score_and_stable_on_ties(tmp_path: Path) -> None:
    weights = np.zeros(len(FEATURES))
    weights[FEATURES.index("vector")] = 2.0
    weights[FEATURES.index("lexical")] = 1.0
    reranker = Reranker(weights, 0.5)
    x = np.zeros((3, len(FEATURES)))
    x[:, 0] = [0.1, 0.3, 0.3]
    x[:, 1] = [0.5, 0.0, 0.0]
    np.testing.assert_allclose(reranker.score(x), [1.2, 1.1, 1.1])
    assert reranker.order(x).tolist() == [0, 1, 2]
    path = tmp_path / "w.json"
    path.write_text(reranker.to_json(method="test"))
    again = Reranker.load(path)
    np.testing.assert_allclose(again.weights, weights)
    assert again.bias == 0.5


def test_weights_for_other_features_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"features": {"vector": 1.0}, "bias": 0}))
    with pytest.raises(RerankWeightsError, match="expected weights"):
        Reranker.load(path)


def test_reorder_reranks_the_head_and_shifts_the_tail_under_it() -> None:
    weights = np.zeros(len(FEATURES))
    weights[FEATURES.index("vector")] = 1.0
    x = np.zeros((2, len(FEATURES)))
    x[:, FEATURES.index("vector")] = [0.2, 0.7]
    ordered = [("a", 0.9), ("b", 0.8), ("c", 0.5), ("d", 0.4)]
    reordered = Reranker(weights, 0.0).reorder(ordered, x)
    assert [book_id for book_id, _ in reordered] == ["b", "a", "c", "d"]
    # The tail keeps its gaps, its first score moved onto the head's last (0.2).
    assert [round(score, 6) for _, score in reordered] == [0.7, 0.2, 0.2, 0.1]
    assert Reranker(weights, 0.0).reorder(ordered[:2], x) == [("b", 0.7), ("a", 0.2)]
