"""Confidence weighting: c = 1 + alpha * s, with implicit rows weighted or dropped."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from vibeshelf.recommend.confidence import confidence_matrix, signal

NAN = float("nan")


def strengths() -> sp.csr_matrix:
    """User 0 rated item 0 at 8/10 and read item 2 without rating; user 1 rated item 1 at 10/10."""
    return sp.csr_matrix((np.array([0.8, NAN, 1.0]), ([0, 0, 1], [0, 2, 1])), shape=(2, 3))


def test_signal_fills_implicit_rows() -> None:
    s = np.array([0.5, NAN])
    assert signal(s, keep_implicit=True, implicit_weight=0.1).tolist() == [0.5, 0.1]
    assert np.isnan(signal(s, keep_implicit=False, implicit_weight=0.1)[1])


def test_confidence_of_explicit_and_implicit_rows() -> None:
    c = confidence_matrix(
        strengths(), alpha=40.0, keep_implicit=True, implicit_weight=0.1
    ).toarray()
    assert c[0, 0] == pytest.approx(1 + 40 * 0.8)
    assert c[0, 2] == pytest.approx(1 + 40 * 0.1)
    assert c[1, 1] == pytest.approx(41.0)
    assert c[0, 1] == c[1, 0] == 0.0  # unobserved: not stored (confidence 1, preference 0)


def test_dropping_implicit_rows() -> None:
    c = confidence_matrix(strengths(), alpha=10.0, keep_implicit=False, implicit_weight=0.1)
    assert c.nnz == 2
    assert c.toarray()[0, 2] == 0.0


def test_higher_rating_means_higher_confidence() -> None:
    m = sp.csr_matrix((np.array([0.2, 0.6, 1.0]), ([0, 0, 0], [0, 1, 2])), shape=(1, 3))
    c = confidence_matrix(m, alpha=5.0, keep_implicit=True, implicit_weight=0.1).toarray()[0]
    assert c[0] < c[1] < c[2]
