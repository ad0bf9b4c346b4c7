"""Training a model version (`vibeshelf train recs`): fit, score a holdout, write the version."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from datetime import UTC, datetime

import numpy as np
import scipy.sparse as sp

from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.artifacts import RecsModel, recs_root, write_model
from vibeshelf.recommend.dataset import load_training_data
from vibeshelf.recommend.evaluation import holdout_metrics
from vibeshelf.recommend.models.factors import PARAMS, fit_factors
from vibeshelf.recommend.schemas import MAX_CUTOFF
from vibeshelf.recommend.sources import als_top_items
from vibeshelf.settings import Settings

log = logging.getLogger(__name__)


def train_recs(
    settings: Settings,
    rec: RecommendSettings,
    source: str | None = None,
    evaluate: bool = True,
    progress: bool = False,
    held: Collection[str] = (),
) -> RecsModel:
    """Fit on every interaction of the source and write a new current model version.

    Pruning to `rec.keep_versions` spares the versions in `held` (those the caller still serves).
    """
    started = time.perf_counter()
    data = load_training_data(settings, rec, source)
    interactions = data.interactions
    log.info(
        "training on %s: %d users, %d items, %d interactions",
        data.source.name,
        interactions.shape[0],
        interactions.shape[1],
        interactions.nnz,
    )
    scores = holdout_metrics(interactions, data.items.genres, rec, progress) if evaluate else {}
    user_factors, item_factors = fit_factors(
        interactions, data.items.genres, rec, progress=progress
    )
    checksum = interactions.checksum()
    created = datetime.now(UTC)
    metadata = {
        "version": f"{created:%Y%m%dT%H%M%S%f}-{checksum[:8]}",
        "created": created.isoformat(timespec="seconds"),
        "source": data.source.name,
        "item_space": data.source.item_space,
        "data_checksum": checksum,
        "params": {name: getattr(rec, name) for name in PARAMS},
        "seed": rec.seed,
        "metrics": scores,
        "counts": {
            "users": interactions.shape[0],
            "items": interactions.shape[1],
            "interactions": interactions.nnz,
        },
    }
    seen = interactions.strengths
    model = RecsModel(
        users=interactions.users,
        items=data.items,
        user_factors=user_factors,
        item_factors=item_factors,
        seen=sp.csr_matrix(
            (np.ones(seen.nnz, np.float32), seen.indices, seen.indptr), shape=seen.shape
        ),
        counts=interactions.item_counts(),
        metadata=metadata,
    )
    model.top_items = als_top_items(model, MAX_CUTOFF, progress)
    metadata["train_seconds"] = round(time.perf_counter() - started, 2)
    write_model(recs_root(settings), model, rec.keep_versions, held)
    return model
