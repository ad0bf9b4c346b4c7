"""`vibeshelf worker`: the Celery worker writing analytics batches from the broker to the store."""

from __future__ import annotations

from typing import Annotated

import typer

from vibeshelf.cli.errors import fail
from vibeshelf.cli.settings import current_settings

NO_BROKER = (
    "analytics.broker_url is not set: without a broker each server writes its own analytics "
    "(set VIBESHELF_ANALYTICS__BROKER_URL=redis://host:6379/0 to run workers)"
)


def worker(
    ctx: typer.Context,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (1: no fork).")] = 1,
    loglevel: Annotated[str, typer.Option(help="Celery's log level.")] = "INFO",
) -> None:
    """Run a Celery worker writing the analytics events servers publish to analytics.broker_url."""
    settings = current_settings(ctx)
    if not settings.analytics.broker_url:
        fail(NO_BROKER)
    from vibeshelf.analytics.broker import celery_app

    pool = ["--pool=solo"] if concurrency == 1 else [f"--concurrency={concurrency}"]
    celery_app(settings).worker_main([
        "worker", *pool, f"--loglevel={loglevel}", "--without-gossip", "--without-mingle",
        "--without-heartbeat",
    ])
