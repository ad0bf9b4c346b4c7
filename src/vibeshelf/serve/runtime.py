"""What a serving process loads once: encoder, vector store, catalog and the search service."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from threadpoolctl import threadpool_limits

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.embed.encoder import Encoder, load_encoder
from vibeshelf.embed.vectors import EmbeddingSet, load_embeddings
from vibeshelf.index.base import IndexManifest, VectorStore
from vibeshelf.index.factory import open_store
from vibeshelf.search.autocomplete import Autocomplete, PopularQueries
from vibeshelf.search.lexical import LexicalStore
from vibeshelf.search.querylog import QUERY_LOG, QueryLog
from vibeshelf.search.rerank import Reranker
from vibeshelf.search.service import SearchService
from vibeshelf.settings import Settings
from vibeshelf.storage import builds
from vibeshelf.storage.errors import StoreError

log = logging.getLogger(__name__)


def previous_build_id(root: Path) -> str:
    """The build before the served one; StoreError when there is none."""
    current = builds.current_build(root)
    previous = builds.previous_build(root, current) if current else None
    if previous is None:
        raise StoreError(f"no previous build in {root}: `vibeshelf index` keeps store.keep_builds")
    return previous


def paired_lexical_build(manifest: IndexManifest, lexical_dir: Path) -> str | None:
    """The BM25 build served with a vector build: the one its manifest names or, for a build
    made before builds were paired, the newest BM25 build older than it (`vibeshelf index`
    wrote the BM25 build first)."""
    return manifest.lexical_build or builds.previous_build(lexical_dir, manifest.build_id)


def limit_blas_threads(threads: int) -> None:
    """Cap this process's BLAS thread pools (numpy's OpenBLAS) at `threads` for its lifetime."""
    threadpool_limits(limits=threads, user_api="blas")


def description_vectors(settings: Settings, encoder: Encoder) -> EmbeddingSet | None:
    """The description vectors the hybrid retrieval and the rerank read, made by the encoder that
    serves; None while `vibeshelf embed` has not written them yet."""
    try:
        descriptions = load_embeddings(settings.embeddings_dir, encoder.name, "description")
    except FileNotFoundError:
        return None
    if descriptions.manifest.model_version != encoder.version:
        raise RuntimeError(
            f"description vectors were made with {descriptions.manifest.model_version} but the "
            f"encoder is {encoder.version}: run `vibeshelf embed` again"
        )
    return descriptions


def attach_descriptions_when_written(
    settings: Settings, encoder: Encoder, search: SearchService, poll_s: float = 1.0
) -> threading.Thread:
    """A daemon thread that waits for the description vectors and hands them to `search`: the
    service answers from the document vectors and BM25 until then."""

    def wait() -> None:
        while (descriptions := description_vectors(settings, encoder)) is None:
            time.sleep(poll_s)
        search.attach_descriptions(descriptions)
        log.info("description vectors of %d books now served", descriptions.manifest.count)

    thread = threading.Thread(target=wait, name="descriptions", daemon=True)
    thread.start()
    return thread


def book_vectors(settings: Settings, encoder: Encoder) -> EmbeddingSet | None:
    """The books' own vectors ("books like X" starts from X's), or None (logged) when `vibeshelf
    embed` made none with this encoder."""
    try:
        vectors = load_embeddings(settings.embeddings_dir, encoder.name)
    except FileNotFoundError as exc:
        log.warning("books like X encodes X's document: %s", exc)
        return None
    return vectors if vectors.manifest.model_version == encoder.version else None


@dataclass
class Runtime:
    """The loaded parts of a running service."""

    settings: Settings
    encoder: Encoder
    store: VectorStore
    catalog: BookCatalog
    search: SearchService
    query_log: QueryLog | None
    autocomplete: Autocomplete

    @classmethod
    def load(cls, settings: Settings, previous: bool = False) -> Runtime:
        """Load everything; `previous` serves the builds before the current ones (read only).

        The vector build served (CURRENT, or the previous one) names the BM25 build it pairs with.

        Caps the process's BLAS threads at serve.blas_threads first: a query's matrix work is
        small, and spinning BLAS threads slow the encoder's own threads down.
        """
        limit_blas_threads(settings.serve.blas_threads)
        encoder = load_encoder(settings.model, settings.models_dir)
        store = open_store(settings, previous_build_id(settings.index_dir) if previous else None)
        catalog = BookCatalog.load(settings.books_path)
        manifest = store.manifest
        if manifest.model_version != encoder.version:
            raise RuntimeError(
                f"index was built with {manifest.model_version} but the encoder is "
                f"{encoder.version}: run `vibeshelf embed` and `vibeshelf index` again"
            )
        lexical = LexicalStore(settings.lexical_dir).open(
            paired_lexical_build(manifest, settings.lexical_dir)
        )
        if lexical.manifest.catalog_checksum != manifest.catalog_checksum:
            raise RuntimeError(
                "the lexical and vector indexes were built from different catalogs: "
                "run `vibeshelf index` again"
            )
        serve = settings.serve
        query_log = (
            QueryLog(settings.logs_dir / QUERY_LOG, int(serve.query_log_max_mb * 2**20), serve.query_log_keep)
            if serve.query_log
            else None
        )
        descriptions = description_vectors(settings, encoder)
        search = SearchService(
            encoder, store, catalog, settings.search, query_log, lexical, Reranker.load(),
            descriptions, book_vectors(settings, encoder),
        )
        if descriptions is None:
            log.warning(
                "no description vectors yet: searching documents and BM25 until `vibeshelf embed` "
                "writes them"
            )
            attach_descriptions_when_written(settings, encoder, search)
        log.info(
            "serving %d books, index build %s, model %s", store.count(), manifest.build_id, encoder.version
        )
        popular = PopularQueries(
            settings.logs_dir / QUERY_LOG, settings.search.popular_min_sessions
        )
        autocomplete = Autocomplete(catalog, popular)
        return cls(settings, encoder, store, catalog, search, query_log, autocomplete)

    def close(self) -> None:
        if self.query_log is not None:
            self.query_log.close()
