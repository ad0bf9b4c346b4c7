"""Training a model version (`vibeshelf train recs`): fit, score a holdout, write the version."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.artifacts import (
    ModelNotFoundError,
    RecsModel,
    current_version,
    load_metadata,
    load_model,
    recs_root,
    write_model,
)
from vibeshelf.recommend.dataset import TrainingData, load_training_data
from vibeshelf.recommend.evaluation import holdout_metrics
from vibeshelf.recommend.models.als import fit_als
from vibeshelf.recommend.models.factors import PARAMS, AlsSolver, fit_factors
from vibeshelf.recommend.schemas import MAX_CUTOFF
from vibeshelf.recommend.sources import als_top_items
from vibeshelf.settings import Settings
from vibeshelf.storage.files import file_sha256

log = logging.getLogger(__name__)

TrainingLoader = Callable[[Settings, RecommendSettings, str | None], TrainingData]


@dataclass(frozen=True)
class TrainingEngine:
    """Where a fit reads its interactions and solves ALS: in this process unless told otherwise.

    `details` is recorded as the version's metadata["engine"] (the solver may add to it).
    """

    name: str = "local"
    load: TrainingLoader = load_training_data
    solve: AlsSolver = fit_als
    details: dict[str, Any] = field(default_factory=dict)



def train_recs(
    settings: Settings,
    rec: RecommendSettings,
    source: str | None = None,
    evaluate: bool = True,
    progress: bool = False,
    held: Collection[str] = (),
    reuse: bool = False,
    engine: TrainingEngine | None = None,
) -> RecsModel:
    """Fit on every interaction of the source and write a new current model version.

    Pruning to `rec.keep_versions` spares the versions in `held` (those the caller still serves).
    With `reuse`, a current version fitted on the same interactions, catalog, parameters and seed
    is returned as it is (the fit is deterministic: it would come out the same). `engine` fits
    elsewhere (Spark): the model directory it writes is the same.
    """
    engine = engine or TrainingEngine()
    started = time.perf_counter()
    data = engine.load(settings, rec, source)
    interactions = data.interactions
    fitted_on = {
        "source": data.source.name,
        "data_checksum": interactions.checksum(),
        "catalog_sha256": file_sha256(settings.books_path) if settings.books_path.is_file() else None,
        "params": {name: getattr(rec, name) for name in PARAMS},
        "seed": rec.seed,
    }
    same = _current_if_fitted_on(recs_root(settings), fitted_on, engine.name) if reuse else None
    if same is not None:
        log.info("the current model %s was fitted on the same data and settings", same.version)
        return same
    log.info(
        "training (%s) on %s: %d users, %d items, %d interactions",
        engine.name,
        data.source.name,
        interactions.shape[0],
        interactions.shape[1],
        interactions.nnz,
    )
    shelves = data.items.shelves
    scores = (
        holdout_metrics(interactions, shelves, rec, progress, engine.solve) if evaluate else {}
    )
    user_factors, item_factors = fit_factors(
        interactions, shelves, rec, progress=progress, solve=engine.solve
    )
    created = datetime.now(UTC)
    metadata = {
        "version": f"{created:%Y%m%dT%H%M%S%f}-{fitted_on['data_checksum'][:8]}",
        "created": created.isoformat(timespec="seconds"),
        **fitted_on,
        "item_space": data.source.item_space,
        "engine": {"name": engine.name, **engine.details},
        "metrics": scores,
        "counts": {
            "users": interactions.shape[0],
            "items": interactions.shape[1],
            "interactions": interactions.nnz,
        },
    }
    model = RecsModel.fitted(interactions, data.items, user_factors, item_factors, metadata)
    model.top_items = als_top_items(model, MAX_CUTOFF, progress)
    metadata["train_seconds"] = round(time.perf_counter() - started, 2)
    write_model(recs_root(settings), model, rec.keep_versions, held)
    return model


def _current_if_fitted_on(root: Path, fitted_on: dict[str, Any], engine: str) -> RecsModel | None:
    """The current model if `engine` fitted it and its metadata records exactly `fitted_on`."""
    version = current_version(root)
    if version is None:
        return None
    try:
        metadata = load_metadata(root, version)
    except ModelNotFoundError:
        return None
    if metadata.get("engine", {}).get("name", "local") != engine:
        return None
    if any(metadata.get(key) != value for key, value in fitted_on.items()):
        return None
    return load_model(root, version)
