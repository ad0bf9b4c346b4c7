"""`vibeshelf demo`: every stage on the bundled sample, then serve it."""

from __future__ import annotations

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


def demo(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build everything, then stop.")] = False,
) -> None:
    """Ingest the bundled sample, embed it, index it, train the recommender and serve it all.

    Without API keys or a JWT secret the demo serves without auth on a loopback host only.
    """
    open_demo = not current_settings(ctx).auth.configured
    if open_demo and not no_serve and not is_loopback(host):
        fail(
            f"the demo serves without auth only on a loopback host, not {host}: bind 127.0.0.1, "
            "or configure VIBESHELF_AUTH__API_KEYS or VIBESHELF_AUTH__JWT_SECRET"
        )
    ingest_sample_cmd(ctx)
    embed(ctx)
    index(ctx)
    ingest_ratings_sample_cmd(ctx)
    train_recs_cmd(ctx, evaluate=False, reuse=True)
    if not no_serve:
        serve(ctx, host=host, port=port, workers=1, no_auth=open_demo)
