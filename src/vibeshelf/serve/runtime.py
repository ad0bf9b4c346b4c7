"""What a serving process loads once: encoder, vector store, catalog and the search service."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.embed.encoder import Encoder, load_encoder
from vibeshelf.index.base import VectorStore
from vibeshelf.index.factory import open_store
from vibeshelf.search.querylog import QueryLog
from vibeshelf.search.service import SearchService
from vibeshelf.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The loaded parts of a running service."""

    settings: Settings
    encoder: Encoder
    store: VectorStore
    catalog: BookCatalog
    search: SearchService
    query_log: QueryLog | None

    @classmethod
    def load(cls, settings: Settings) -> Runtime:
        encoder = load_encoder(settings.model, settings.models_dir)
        store = open_store(settings)
        catalog = BookCatalog.load(settings.books_path)
        manifest = store.manifest
        if manifest.model_version != encoder.version:
            raise RuntimeError(
                f"index was built with {manifest.model_version} but the encoder is "
                f"{encoder.version}: run `vibeshelf embed` and `vibeshelf index` again"
            )
        query_log = QueryLog(settings.logs_dir / "queries.jsonl") if settings.serve.query_log else None
        search = SearchService(encoder, store, catalog, settings.search, query_log)
        log.info(
            "serving %d books, index build %s, model %s", store.count(), manifest.build_id, encoder.version
        )
        return cls(settings, encoder, store, catalog, search, query_log)

    def close(self) -> None:
        if self.query_log is not None:
            self.query_log.close()
