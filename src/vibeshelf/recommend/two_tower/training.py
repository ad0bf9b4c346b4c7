"""`vibeshelf train two-tower`: fit both towers, write a model version, publish the item vectors."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from vibeshelf.config.extras import require_extra
from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.dataset import load_training_data
from vibeshelf.recommend.two_tower.artifacts import prune_two_tower, two_tower_root, write_two_tower
from vibeshelf.recommend.two_tower.features import catalog_item_inputs, history_weights
from vibeshelf.recommend.two_tower.store import item_vector_store, publish_item_vectors
from vibeshelf.settings import Settings

log = logging.getLogger(__name__)


def train_two_tower(
    settings: Settings, rec: RecommendSettings, source: str | None = None, progress: bool = False
) -> dict[str, Any]:
    """Train on every interaction of the source; returns the new version's metadata."""
    require_extra("train", "`vibeshelf train two-tower`")
    from vibeshelf.recommend.models.two_tower_train import (
        export_user_tower,
        fit_two_tower,
        item_vectors,
    )

    started = time.perf_counter()
    params = rec.two_tower
    data = load_training_data(settings, rec, source)
    inputs = catalog_item_inputs(
        data.items.ids, settings.embeddings_dir, settings.model.name, settings.books_path
    )
    history = history_weights(data.interactions.strengths, params.implicit_weight)
    net = fit_two_tower(history, inputs.content, params, progress=progress)
    vectors = item_vectors(net)
    checksum = data.interactions.checksum()
    created = datetime.now(UTC)
    version = f"{created:%Y%m%dT%H%M%S%f}-{checksum[:8]}"
    metadata: dict[str, Any] = {
        "version": version,
        "created": created.isoformat(timespec="seconds"),
        "source": data.source.name,
        "data_checksum": checksum,
        "params": params.model_dump(),
        "text_model": settings.model.name,
        "content_dim": int(inputs.content.shape[1]),
        "genres": inputs.genres,
        "counts": {
            "users": history.shape[0],
            "items": history.shape[1],
            "interactions": int(history.nnz),
            "items_without_interactions": int((history.getnnz(axis=0) == 0).sum()),
        },
        "train_seconds": round(time.perf_counter() - started, 2),
    }
    root = two_tower_root(settings)
    write_two_tower(
        root,
        version,
        lambda path: export_user_tower(net, path),
        vectors,
        inputs.ids,
        data.interactions.users,
        history,
        metadata,
    )
    prune_two_tower(root, params.keep_versions)
    publish_item_vectors(
        item_vector_store(settings, params.collection, load=False), inputs.ids, vectors, version
    )
    log.debug("two-tower model %s written to %s", version, root / version)
    return metadata
