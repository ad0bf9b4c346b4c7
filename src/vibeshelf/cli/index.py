"""`vibeshelf index`: build the BM25 and vector indexes as one published pair."""

from __future__ import annotations

import typer

from vibeshelf.cli.errors import fail
from vibeshelf.cli.settings import current_settings


def index(ctx: typer.Context) -> None:
    """Build the BM25 and vector indexes from the catalog and its embeddings, published as one
    pair (a crash leaves the old pair served); concurrent runs wait for each other."""
    from vibeshelf.catalog.books import BookCatalog
    from vibeshelf.catalog.schema import CatalogError
    from vibeshelf.embed.vectors import load_embeddings
    from vibeshelf.index.build import StaleEmbeddingsError, build_index, check_embeddings
    from vibeshelf.index.factory import open_store
    from vibeshelf.search.lexical import LexicalStore
    from vibeshelf.storage import builds
    from vibeshelf.storage.files import file_sha256

    settings = current_settings(ctx)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with builds.exclusive(settings.data_dir / builds.INDEX_LOCK, f"the indexes of {settings.data_dir}"):
        try:
            embeddings = load_embeddings(settings.embeddings_dir, settings.model.name)
            catalog = BookCatalog.load(settings.books_path)
            checksum = file_sha256(settings.books_path)
            check_embeddings(embeddings, checksum)
            lexical_store = LexicalStore(settings.lexical_dir, settings.store.keep_builds)
            lexical = lexical_store.rebuild_from_catalog(settings.books_path, checksum, point=False)
            manifest = build_index(
                open_store(settings, load=False), catalog, checksum, embeddings, lexical.manifest.build_id
            )
            paired = builds.manifest_values(settings.index_dir, "lexical_build")
            lexical_store.prune(paired | {manifest.lexical_build})
        except (FileNotFoundError, StaleEmbeddingsError, CatalogError) as exc:
            fail(str(exc))
    typer.echo(
        f"indexed {manifest.count} books: {manifest.backend} build {manifest.build_id} in "
        f"{manifest.build_seconds}s, BM25 build {lexical.manifest.build_id} in "
        f"{lexical.manifest.build_seconds}s"
    )
