"""A source's interactions exported from the interactions store to Parquet, and read back for training."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pyarrow.parquet as pq

from vibeshelf.catalog.table import staging_file
from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.dataset import TrainingData, training_data_from_rows
from vibeshelf.recommend.storage.base import SourceInfo
from vibeshelf.recommend.storage.factory import open_interactions
from vibeshelf.settings import Settings

log = logging.getLogger(__name__)

SOURCE_KEY = b"vibeshelf.source"


def interactions_parquet(settings: Settings, source: str) -> Path:
    """Where a source's exported interactions live: <data_dir>/interactions/<source>.parquet."""
    return settings.data_dir / "interactions" / f"{source}.parquet"


def export_interactions(settings: Settings, rec: RecommendSettings, source: str | None = None) -> Path:
    """The source's rows as Parquet (the store's schema, its SourceInfo in the file's metadata).

    An export whose recorded row count and update time match the store's is kept as it is.
    """
    store = open_interactions(rec.events_url, settings.data_dir)
    try:
        info = store.source(source or rec.source)
        path = interactions_parquet(settings, info.name)
        if path.is_file() and _exported_info(path) == info:
            log.info("%s is up to date", path)
            return path
        rows = store.read(info.name)
    finally:
        store.close()
    meta = {**(rows.schema.metadata or {}), SOURCE_KEY: json.dumps(info.__dict__).encode()}
    with staging_file(path) as staged:
        pq.write_table(rows.replace_schema_metadata(meta), staged, compression="zstd")
        staged.replace(path)
    log.info("exported %d interactions of %s to %s", rows.num_rows, info.name, path)
    return path


def _exported_info(path: Path) -> SourceInfo | None:
    meta = pq.read_schema(path).metadata or {}
    return SourceInfo(**json.loads(meta[SOURCE_KEY])) if SOURCE_KEY in meta else None


def load_parquet_training_data(
    settings: Settings, rec: RecommendSettings, source: str | None = None
) -> TrainingData:
    """Export the source to Parquet if needed, then index its rows as `load_training_data` does."""
    path = export_interactions(settings, rec, source)
    info = _exported_info(path)
    assert info is not None  # export_interactions always records it
    table = pq.read_table(path)
    return training_data_from_rows(settings, info, table.replace_schema_metadata(None))
