"""Shelf cold start: TF-IDF shelf features, the ridge regression and the shrinkage blend."""

from __future__ import annotations

import numpy as np
import pytest

from vibeshelf.recommend.models.coldstart import blend, shelf_features, shelf_regression

GENRES = [
    ["fantasy", "magic"],
    ["fantasy", "dragons"],
    ["romance"],
    ["romance", "regency"],
    ["fantasy"],
    ["one-off"],
]


def test_features_are_unit_rows_without_singleton_shelves() -> None:
    features = shelf_features(GENRES)
    assert features.shape == (6, 2)  # only fantasy (3 books) and romance (2) are on >= 2 books
    norms = np.sqrt(np.asarray(features.multiply(features).sum(axis=1)).ravel())
    np.testing.assert_allclose(norms, [1, 1, 1, 1, 1, 0])


def test_cold_item_gets_its_shelf_mates_direction() -> None:
    features = shelf_features(GENRES)
    factors = np.array([[1, 0], [1, 0.1], [0, 1], [0.1, 1], [0, 0], [0, 0]], dtype=np.float32)
    counts = np.array([5, 5, 5, 5, 0, 0])
    predicted = shelf_regression(features, factors, counts, ridge=0.1)
    fantasy = predicted[4]
    assert fantasy[0] > 0.5 and abs(fantasy[1]) < 0.2
    assert not predicted[5].any()  # no known shelves: nothing to say


def test_blend_shrinks_sparse_items_and_replaces_cold_ones() -> None:
    factors = np.ones((3, 2), np.float32)
    predicted = np.zeros((3, 2), np.float32)
    out = blend(factors, predicted, np.array([0, 2, 98]), shrinkage=2.0)
    assert out[0].tolist() == [0, 0]
    assert out[1] == pytest.approx([0.5, 0.5])
    assert out[2] == pytest.approx([0.98, 0.98])
    unchanged = blend(factors, predicted, np.array([0, 1, 5]), shrinkage=0.0)
    assert unchanged[:, 0].tolist() == [0, 1, 1]
