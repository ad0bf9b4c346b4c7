"""Pick a vector store implementation from its URL scheme (server libraries load only when used)."""

from __future__ import annotations

from vibeshelf.config.urls import backend_of
from vibeshelf.index.base import VectorStore
from vibeshelf.settings import Settings


def open_store(
    settings: Settings, build_id: str | None = None, load: bool = True
) -> VectorStore:
    """The store named by settings.store.url: hnsw://[path], redis://host:port/db or postgresql://.

    `build_id` pins an older build of the embedded store, read only, instead of the served one;
    `load=False` opens the embedded store for a rebuild without reading its current build.
    """
    from vibeshelf.index.hnsw import HnswParams

    store = settings.store
    params = HnswParams(
        m=store.hnsw_m,
        ef_construction=store.hnsw_ef_construction,
        ef_search=store.hnsw_ef_search,
        keep_builds=store.keep_builds,
    )
    scheme = backend_of(store.url)
    if scheme == "hnsw":
        from vibeshelf.index.hnsw import HnswStore

        return HnswStore(settings.index_dir, params, build_id, load)
    if build_id is not None:
        raise ValueError(f"only the embedded hnsw store keeps earlier builds, not {scheme}")
    if scheme == "redis":
        from vibeshelf.index.redis_store import RedisStore

        return RedisStore(store.url, params, vector_dtype=store.vector_dtype)
    if scheme == "postgresql":
        from vibeshelf.index.pgvector_store import PgVectorStore

        return PgVectorStore(store.url, params, vector_dtype=store.vector_dtype)
    raise ValueError("unsupported vector store URL scheme: expected hnsw, redis or postgresql")
