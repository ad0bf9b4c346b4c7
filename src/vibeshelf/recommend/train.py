"""`vibeshelf train recs`: read a source's interactions, fit, evaluate on a holdout, write a model version."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.artifacts import RecsModel, write_model
from vibeshelf.recommend.dataset import Interactions
from vibeshelf.recommend.evaluate import holdout_metrics
from vibeshelf.recommend.fit import fit_factors
from vibeshelf.recommend.items import ItemTable, item_universe
from vibeshelf.recommend.schemas import MAX_CUTOFF
from vibeshelf.recommend.sources import als_top_items
from vibeshelf.recommend.storage.base import SourceInfo
from vibeshelf.recommend.storage.factory import open_interactions
from vibeshelf.settings import Settings

log = logging.getLogger(__name__)

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


@dataclass
class TrainingData:
    """A source's interactions over the item universe of its item space."""

    source: SourceInfo
    interactions: Interactions
    items: ItemTable


def recs_root(settings: Settings) -> Path:
    """Where recommender model versions live."""
    return settings.models_dir / "recs"


def load_training_data(
    settings: Settings, rec: RecommendSettings, source: str | None = None
) -> TrainingData:
    """Read a source from the interactions store and index it over its items."""
    store = open_interactions(rec.events_url, settings.data_dir)
    try:
        info = store.source(source or rec.source)
        rows = store.read(info.name)
    finally:
        store.close()
    interacted = rows.column("item_id").unique().to_pylist()
    items = item_universe(info.item_space, interacted, settings.books_path, settings.catalog_dir)
    return TrainingData(info, Interactions.from_table(rows, items.ids), items)


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
