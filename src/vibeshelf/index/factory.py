"""Pick a vector store implementation from its URL scheme."""

from __future__ import annotations

from vibeshelf.index.base import VectorStore
from vibeshelf.index.hnsw import HnswParams, HnswStore
from vibeshelf.settings import Settings


def open_store(settings: Settings, build_id: str | None = None) -> VectorStore:
    """The store named by settings.store.url: `hnsw://[path]` (embedded, the default).

    `build_id` pins an older build, read only, instead of the served one.
    """
    scheme = settings.store.url.split("://", 1)[0]
    if scheme == "hnsw":
        store = settings.store
        params = HnswParams(
            m=store.hnsw_m,
            ef_construction=store.hnsw_ef_construction,
            ef_search=store.hnsw_ef_search,
            keep_builds=store.keep_builds,
        )
        return HnswStore(settings.index_dir, params, build_id)
    raise ValueError(f"unsupported vector store URL {settings.store.url!r}")
