"""The recommender model: confidence weighting, ALS, then shelf cold start, as factors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp

from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.confidence import confidence_matrix
from vibeshelf.recommend.dataset import Interactions
from vibeshelf.recommend.models.als import AlsParams, fit_als
from vibeshelf.recommend.models.coldstart import blend, shelf_features, shelf_regression

# An ALS solver: (users x items confidence, params, progress) -> (user factors, item factors).
AlsSolver = Callable[[sp.csr_matrix, AlsParams, bool], tuple[np.ndarray, np.ndarray]]

# The settings a fit depends on (besides the seed): recorded in each model version's metadata.
PARAMS = (
    "factors",
    "regularization",
    "alpha",
    "iterations",
    "cg_steps",
    "keep_implicit",
    "implicit_weight",
    "shelf_shrinkage",
    "shelf_ridge",
)


def _als_params(rec: RecommendSettings) -> AlsParams:
    """The ALS part of the settings."""
    return AlsParams(
        factors=rec.factors,
        regularization=rec.regularization,
        iterations=rec.iterations,
        cg_steps=rec.cg_steps,
        seed=rec.seed,
    )


def fit_factors(
    data: Interactions,
    genres: list[list[str]],
    rec: RecommendSettings,
    progress: bool = False,
    solve: AlsSolver = fit_als,
) -> tuple[np.ndarray, np.ndarray]:
    """(user factors, item factors); users and items with no training signal start at zero.

    `solve` fits the ALS stage (this process's solver by default, MLlib's with `--engine spark`).
    """
    confidence = confidence_matrix(
        data.strengths, rec.alpha, rec.keep_implicit, rec.implicit_weight
    )
    users, items = solve(confidence, _als_params(rec), progress)
    users[np.diff(confidence.indptr) == 0] = 0.0
    counts = np.bincount(confidence.indices, minlength=data.shape[1])
    items[counts == 0] = 0.0
    features = shelf_features(genres)
    if features.shape[1]:
        predicted = shelf_regression(features, items, counts, rec.shelf_ridge)
        items = blend(items, predicted, counts, rec.shelf_shrinkage)
    return users, items
