"""`vibeshelf embed`: encode every book's document and description."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, cast, get_args

import typer

from vibeshelf.cli.errors import fail
from vibeshelf.cli.loading import load_encoder
from vibeshelf.cli.settings import current_settings
from vibeshelf.config.core import EmbedEngine, EmbedSettings
from vibeshelf.settings import Settings

if TYPE_CHECKING:
    from vibeshelf.embed.ray_engine import RayEncoder
    from vibeshelf.embed.vectors import EmbeddingManifest, Field


def embed(
    ctx: typer.Context,
    batch_size: Annotated[int | None, typer.Option(help="Texts per encoder batch.")] = None,
    engine: Annotated[
        EmbedEngine | None,
        typer.Option(help="local: this process; ray: shards over a Ray cluster (default from settings)."),
    ] = None,
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster to join, e.g. auto (default: start a local one).")
    ] = None,
    shard_size: Annotated[int | None, typer.Option(min=1, help="Documents per Ray shard.")] = None,
    only: Annotated[
        str | None,
        typer.Option(help="Encode only this field: document or description (default: both)."),
    ] = None,
) -> None:
    """Encode every book's document and description with the configured model.

    The description vectors feed the hybrid retrieval and the rerank (a server picks them up when
    they are written); unchanged vectors are reused.
    """
    from vibeshelf.embed.ray_engine import RayEngineError
    from vibeshelf.embed.vectors import Field, embed_catalog
    from vibeshelf.storage.files import file_sha256

    settings = current_settings(ctx)
    fields = get_args(Field)
    if only is not None and only not in fields:
        fail(f"--only takes {' or '.join(fields)}, not {only!r}")
    if not settings.books_path.is_file():
        fail(f"no catalog at {settings.books_path}: run `vibeshelf ingest` first")
    options = settings.embed.model_copy(
        update={k: v for k, v in {"engine": engine, "ray_address": ray_address,
                                   "shard_size": shard_size}.items() if v is not None}
    )
    local = None if options.engine == "ray" else load_encoder(settings, bulk=True)
    checksum = file_sha256(settings.books_path)
    done: dict[str, EmbeddingManifest] = {}
    for field in (cast("Field", only),) if only else fields:
        encoder = local or _ray_encoder(settings, options, field)
        try:
            result = embed_catalog(
                settings.books_path,
                checksum,
                encoder,
                settings.embeddings_dir,
                batch_size=batch_size or settings.model.batch_size,
                field=field,
            )
        except RayEngineError as exc:
            fail(str(exc))
        done[field] = result.manifest
    _embed_summary(done)


def _embed_summary(done: dict[str, EmbeddingManifest]) -> None:
    """One line for every field embedded: counts per field, vectors encoded and reused, seconds."""
    counts = " and ".join(f"{m.count} {field}s" for field, m in done.items())
    manifests = done.values()
    typer.echo(
        f"embedded {counts} with {next(iter(manifests)).model_version} "
        f"({sum(m.encoded for m in manifests)} encoded, {sum(m.reused for m in manifests)} reused) "
        f"in {sum(m.seconds for m in manifests):.2f}s"
    )


def _ray_encoder(settings: Settings, options: EmbedSettings, field: Field) -> RayEncoder:
    from vibeshelf.embed.encoder import ModelNotFoundError
    from vibeshelf.embed.ray_engine import RayEncoder, RayEngineError
    from vibeshelf.embed.vectors import embeddings_path

    shards_dir = embeddings_path(settings.embeddings_dir, settings.model.name, field).with_suffix(
        ".shards"
    )
    try:
        return RayEncoder(
            settings.model, settings.models_dir, shards_dir, shard_size=options.shard_size,
            address=options.ray_address, actors=options.ray_actors,
        )
    except (RayEngineError, ModelNotFoundError) as exc:
        fail(str(exc))
