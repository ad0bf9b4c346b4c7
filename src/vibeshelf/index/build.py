"""Build the served index from a catalog and its embeddings."""

from __future__ import annotations

import logging

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.embed.vectors import EmbeddingSet
from vibeshelf.index.base import IndexManifest, Records, VectorStore

log = logging.getLogger(__name__)


class StaleEmbeddingsError(RuntimeError):
    """Embeddings were made from another catalog than the one being indexed."""


def check_embeddings(embeddings: EmbeddingSet, catalog_checksum: str) -> None:
    """Raise StaleEmbeddingsError unless the embeddings were made from this catalog."""
    if embeddings.manifest.catalog_checksum != catalog_checksum:
        raise StaleEmbeddingsError(
            "embeddings are from another catalog version: run `vibeshelf embed` again"
        )


def build_index(
    store: VectorStore,
    catalog: BookCatalog,
    catalog_checksum: str,
    embeddings: EmbeddingSet,
    lexical_build: str = "",
) -> IndexManifest:
    """Replace the store's contents with every catalog book that has a vector; the manifest
    names `lexical_build`, the BM25 build served with it."""
    check_embeddings(embeddings, catalog_checksum)
    rows = [(i, catalog.get(book_id)) for i, book_id in enumerate(embeddings.ids)]
    rows = [(i, book) for i, book in rows if book is not None]
    records = Records(
        ids=[book.book_id for _, book in rows],
        vectors=embeddings.vectors[[i for i, _ in rows]],
        fields=[book.index_fields() for _, book in rows],
    )
    store.rebuild(
        records,
        IndexManifest(
            model_name=embeddings.manifest.model_name,
            model_version=embeddings.manifest.model_version,
            dim=embeddings.manifest.dim,
            catalog_checksum=catalog_checksum,
            lexical_build=lexical_build,
        ),
    )
    return store.manifest
