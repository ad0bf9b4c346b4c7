"""`vibeshelf demo`: every stage on the bundled sample, then serve it."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Annotated

import typer

from vibeshelf.cli.catalog import ingest_sample_cmd
from vibeshelf.cli.embed import embed
from vibeshelf.cli.errors import fail
from vibeshelf.cli.index import index
from vibeshelf.cli.recommend import ingest_ratings_sample_cmd
from vibeshelf.cli.serve import is_loopback, serve
from vibeshelf.cli.settings import current_settings
from vibeshelf.cli.train_recs import train_recs_cmd
from vibeshelf.settings import Settings

# What the demo's last `index` was built from, and the build it published.
INDEX_INPUTS_FILE = "demo-index.json"


def demo(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build everything, then stop.")] = False,
) -> None:
    """Ingest the bundled sample, embed it, index it, train the recommender and serve it all.

    The server starts once the document vectors exist; the description vectors are embedded behind
    it and served when written. Every stage reuses what an earlier run made from the same inputs: vectors of unchanged texts,
    the indexes of the same catalog, vectors and settings, the recommender fitted on the same data.
    Without API keys or a JWT secret the demo serves without auth on a loopback host only.
    """
    settings = current_settings(ctx)
    open_demo = not settings.auth.configured
    if open_demo and not no_serve and not is_loopback(host):
        fail(
            f"the demo serves without auth only on a loopback host, not {host}: bind 127.0.0.1, "
            "or configure VIBESHELF_AUTH__API_KEYS or VIBESHELF_AUTH__JWT_SECRET"
        )
    ingest_sample_cmd(ctx)
    embed(ctx, only=None if no_serve else "document")
    index_inputs = _index_inputs(settings)
    kept = _index_kept(settings, index_inputs)
    if kept:
        typer.echo(f"kept index build {kept}: built from the same catalog, vectors and settings")
    else:
        index(ctx)
        _remember_index(settings, index_inputs)
    ingest_ratings_sample_cmd(ctx)
    train_recs_cmd(ctx, evaluate=False, reuse=True)
    if not no_serve:
        _embed_descriptions_behind(ctx)
        serve(ctx, host=host, port=port, workers=1, no_auth=open_demo)


def _embed_descriptions_behind(ctx: typer.Context) -> None:
    """Embed the description vectors while the server starts: it answers from the documents and
    BM25 at once and reads the descriptions when they are written (`Runtime`)."""
    typer.echo("embedding descriptions behind the server: the search uses them once written")
    threading.Thread(
        target=embed, args=(ctx,), kwargs={"only": "description"}, name="demo-descriptions",
        daemon=True,
    ).start()


def _index_inputs(settings: Settings) -> str:
    """A digest of what `index` reads: the catalog, the document vectors' model and the settings
    (vectors are a function of text and model version, so the catalog stands for them); not
    the credentials, nor where the data dir lies."""
    from vibeshelf.embed.vectors import load_embeddings
    from vibeshelf.storage.files import file_sha256

    vectors = load_embeddings(settings.embeddings_dir, settings.model.name).manifest
    parts = [file_sha256(settings.books_path), vectors.model_version, vectors.catalog_checksum,
             settings.model_dump_json(exclude={"auth", "data_dir"})]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _index_kept(settings: Settings, inputs: str) -> str | None:
    """The served index build when the demo built it from `inputs`, else None."""
    from vibeshelf.storage.builds import current_build

    try:
        last = json.loads((settings.data_dir / INDEX_INPUTS_FILE).read_text())
    except (OSError, ValueError):
        return None
    current = current_build(settings.index_dir)
    same = isinstance(last, dict) and last.get("inputs") == inputs and last.get("build") == current
    return current if same else None


def _remember_index(settings: Settings, inputs: str) -> None:
    from vibeshelf.storage.builds import current_build

    record = {"inputs": inputs, "build": current_build(settings.index_dir)}
    (settings.data_dir / INDEX_INPUTS_FILE).write_text(json.dumps(record))
