"""The ranker's labels and reader split: grades by rating, and three disjoint reader sets."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from vibeshelf.recommend.dataset import Interactions
from vibeshelf.recommend.twostage.dataset import grade, split_readers


def test_grades_follow_the_rating_and_an_unrated_read_counts() -> None:
    assert grade(float("nan")) == 1
    assert [grade(r / 5) for r in (1, 2, 3, 4, 5)] == [1, 1, 2, 3, 4]
    assert grade(10 / 10) == 4 and grade(1 / 10) == 1


def test_reader_sets_are_disjoint_capped_and_hold_only_readers_with_held_out_books() -> None:
    rows = np.repeat(np.arange(100), 2)[:150]  # readers 0-74 hold books, 75-99 none
    held = sp.csr_matrix((np.ones(150), (rows, np.arange(150) % 7)), shape=(100, 7))
    test = Interactions([f"u{i}" for i in range(100)], [f"b{i}" for i in range(7)], held)
    split = split_readers(test, n_train=20, n_eval=30, seed=3)
    train, valid, evaluate = (set(a.tolist()) for a in (split.train, split.valid, split.evaluate))
    assert not (train & valid) and not (train & evaluate) and not (valid & evaluate)
    assert len(train) + len(valid) == 20 and len(valid) == 4 and len(evaluate) == 30
    assert max(train | valid | evaluate) < 75
    again = split_readers(test, n_train=20, n_eval=30, seed=3)
    assert np.array_equal(again.evaluate, split.evaluate)
