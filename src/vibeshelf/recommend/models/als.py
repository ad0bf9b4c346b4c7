"""Implicit-feedback ALS (Hu, Koren & Volinsky 2008) in numpy/scipy, solved by batched conjugate gradient.

Minimises sum_ui c_ui (p_ui - x_u . y_i)^2 + reg (|X|^2 + |Y|^2) with p_ui = 1 on observed pairs.
Each half-step solves (Y'Y + Y' (C_u - I) Y + reg I) x_u = Y' C_u p_u for every user at once with a
few CG steps warm-started from the previous factors (Takács et al. 2011); fold-in solves the same
system exactly for one new user. Same seed and data give identical factors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from tqdm import tqdm

INIT_SCALE = 0.01


@dataclass(frozen=True)
class AlsParams:
    """ALS hyper-parameters (alpha lives in the confidence matrix, not here)."""

    factors: int = 64
    regularization: float = 5.0
    iterations: int = 15
    cg_steps: int = 3
    seed: int = 42


def fit_als(
    confidence: sp.csr_matrix, params: AlsParams, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """User and item factors (float32) for a users x items confidence matrix (c_ui on observed pairs)."""
    n_users, n_items = confidence.shape
    rng = np.random.default_rng(params.seed)
    users = (rng.standard_normal((n_users, params.factors)) * INIT_SCALE).astype(np.float32)
    items = (rng.standard_normal((n_items, params.factors)) * INIT_SCALE).astype(np.float32)
    by_user = confidence.astype(np.float32).tocsr()
    by_item = by_user.T.tocsr()
    for _ in tqdm(range(params.iterations), desc="ALS", unit="it", disable=not progress):
        users = _half_step(by_user, users, items, params.regularization, params.cg_steps)
        items = _half_step(by_item, items, users, params.regularization, params.cg_steps)
    return users, items


def _half_step(
    conf: sp.csr_matrix, x: np.ndarray, y: np.ndarray, reg: float, steps: int
) -> np.ndarray:
    """A few CG steps on every row's normal equations at once, starting from `x`."""
    gram = gramian(y, reg)
    rows = np.repeat(np.arange(conf.shape[0]), np.diff(conf.indptr))
    cols = conf.indices
    extra = conf.data - 1.0

    def apply(v: np.ndarray) -> np.ndarray:
        """(Y'Y + reg I + Y' (C_u - I) Y) v_u for every row u."""
        dots = np.einsum("ij,ij->i", v[rows], y[cols])
        weighted = sp.csr_matrix((extra * dots, cols, conf.indptr), shape=conf.shape)
        return v @ gram + weighted @ y

    x = x.copy()
    residual = sp.csr_matrix((conf.data, cols, conf.indptr), shape=conf.shape) @ y - apply(x)
    direction = residual.copy()
    rs = np.einsum("ij,ij->i", residual, residual)
    for _ in range(steps):
        ad = apply(direction)
        curvature = np.einsum("ij,ij->i", direction, ad)
        step = np.divide(rs, curvature, out=np.zeros_like(rs), where=curvature > 0)
        x += step[:, None] * direction
        residual -= step[:, None] * ad
        rs_next = np.einsum("ij,ij->i", residual, residual)
        beta = np.divide(rs_next, rs, out=np.zeros_like(rs), where=rs > 0)
        direction = residual + beta[:, None] * direction
        rs = rs_next
    return x


def gramian(factors: np.ndarray, reg: float) -> np.ndarray:
    """Y'Y + reg I, the part of every normal equation shared by all rows."""
    k = factors.shape[1]
    return (factors.T @ factors + reg * np.eye(k, dtype=factors.dtype)).astype(factors.dtype)


def fold_in(
    items: np.ndarray, gram_inverse: np.ndarray, liked: np.ndarray, confidence: np.ndarray
) -> np.ndarray:
    """The exact least-squares user vector for a new user who liked `liked` with these confidences.

    Solves (G + Y' (C - I) Y) x = Y' c, with G = Y'Y + reg I over all items, through the
    Woodbury identity: given G's inverse it costs a system the size of `liked`, not of the factors.
    """
    y = items[liked].astype(np.float64)
    extra = np.asarray(confidence, dtype=np.float64) - 1.0
    u = gram_inverse @ (y.T @ confidence)
    p = y @ gram_inverse
    inner = np.eye(len(liked)) + extra[:, None] * (p @ y.T)
    return (u - p.T @ np.linalg.solve(inner, extra * (y @ u))).astype(np.float32)
