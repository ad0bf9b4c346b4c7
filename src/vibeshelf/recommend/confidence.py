"""Explicit ratings and implicit events as confidence-weighted implicit feedback.

Every kept interaction is a positive preference p_ui = 1 with confidence (Hu, Koren & Volinsky 2008)

    c_ui = 1 + alpha * s_ui
    s_ui = rating / rating_max     an explicit rating, so s in (0, 1]
    s_ui = implicit_weight         an implicit row: Book-Crossing's or Goodreads' rating 0
                                   ("read or shelved, not rated"), or an event without a rating

and every unobserved pair is p_ui = 0 with confidence 1. With keep_implicit=False implicit rows are
dropped from training instead (they still count as seen: never recommended back).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def signal(strength: np.ndarray, keep_implicit: bool, implicit_weight: float) -> np.ndarray:
    """s_ui per row: the strength, or implicit_weight (NaN = drop) where strength is NaN."""
    fill = implicit_weight if keep_implicit else np.nan
    return np.where(np.isnan(strength), fill, strength)


def confidence_matrix(
    strengths: sp.csr_matrix, alpha: float, keep_implicit: bool, implicit_weight: float
) -> sp.csr_matrix:
    """C with c_ui = 1 + alpha * s_ui on observed pairs; `strengths` holds NaN for implicit rows."""
    s = signal(strengths.data, keep_implicit, implicit_weight)
    coo = strengths.tocoo()
    keep = ~np.isnan(s)
    conf = (1.0 + alpha * s[keep]).astype(np.float32)
    return sp.csr_matrix((conf, (coo.row[keep], coo.col[keep])), shape=strengths.shape)
