"""The item vectors' collection in the configured vector store, beside the search index."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlencode, urlsplit

import numpy as np

from vibeshelf.config.urls import backend_of
from vibeshelf.index.base import IndexManifest, Records, VectorStore
from vibeshelf.index.factory import open_store
from vibeshelf.settings import Settings

MODEL_NAME = "two-tower"
# The URL option that names a server store's collection: Redis key prefix, PostgreSQL table.
COLLECTION_OPTION = {"redis": "prefix", "postgresql": "table"}


def collection_url(settings: Settings, collection: str) -> str:
    """settings.store.url naming `collection` instead of the search index: a directory of its own
    in the data dir (hnsw), a key prefix (Redis) or a table (PostgreSQL)."""
    url = settings.store.url
    scheme = backend_of(url)
    if scheme == "hnsw":
        return f"hnsw://{(settings.data_dir / collection).resolve()}"
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    query[COLLECTION_OPTION[str(scheme)]] = [collection]
    return parts._replace(query=urlencode(query, doseq=True, quote_via=quote)).geturl()


def item_vector_store(settings: Settings, collection: str, load: bool = True) -> VectorStore:
    """The store of the two-tower item vectors: same backend as settings.store, own collection."""
    store = settings.store.model_copy(update={"url": collection_url(settings, collection)})
    return open_store(settings.model_copy(update={"store": store}), load=load)


def publish_item_vectors(
    store: VectorStore, ids: list[str], vectors: np.ndarray, version: str
) -> IndexManifest:
    """Replace the collection with one unit vector per item, its manifest naming the version."""
    records = Records(list(ids), vectors, [{} for _ in ids])
    manifest = IndexManifest(model_name=MODEL_NAME, model_version=version, dim=vectors.shape[1])
    store.rebuild(records, manifest)
    return store.manifest
