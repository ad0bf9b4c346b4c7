"""`vibeshelf features apply | materialize`: the ranker's Feast feature store in the data dir."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stdout
from typing import TYPE_CHECKING, Annotated

import typer
from tqdm import tqdm

from vibeshelf.cli.errors import fail
from vibeshelf.cli.settings import current_settings
from vibeshelf.config.extras import MissingExtraError, require_extra
from vibeshelf.config.urls import backend_of
from vibeshelf.settings import Settings

if TYPE_CHECKING:
    from vibeshelf.recommend.features.repo import FeatureRepo

features_app = typer.Typer(
    help="The ranker's feature store (Feast): write its repo, compute and load its features.",
    no_args_is_help=True,
)
STAGES = 3


def _repo(settings: Settings) -> FeatureRepo:
    """The data dir's feature repo; fails when Feast is not installed."""
    try:
        require_extra("ranker", "`vibeshelf features`")
    except MissingExtraError as exc:
        fail(str(exc))
    from vibeshelf.recommend.features.repo import FeatureRepo

    return FeatureRepo(settings.features_dir, settings.recommend.feature_store)


def _store_errors() -> tuple[type[Exception], ...]:
    """Errors a person can fix: missing inputs, bad sources, an unreachable online store."""
    from vibeshelf.recommend.features.materialize import FeatureInputError
    from vibeshelf.storage.errors import StorageError

    errors: tuple[type[Exception], ...] = (FeatureInputError, StorageError, FileNotFoundError)
    try:
        from redis.exceptions import RedisError
    except ImportError:  # no redis extra: no Redis online store either
        return errors
    return (*errors, RedisError)


@features_app.command("apply")
def apply_cmd(ctx: typer.Context) -> None:
    """Write the Feast repo (feature_store.yaml and definitions) into <data_dir>/features and
    register its entities and feature views."""
    settings = current_settings(ctx)
    repo = _repo(settings)
    from vibeshelf.recommend.features.definitions import feature_refs

    try:
        with redirect_stdout(io.StringIO()):  # Feast prints what it applied
            repo.apply()
    except _store_errors() as exc:
        fail(str(exc))
    count = len(feature_refs(list(repo.settings.sources)))
    online = backend_of(repo.settings.url)  # not the URL: it may hold a password
    typer.echo(f"feature store in {repo.root}: {count} features, online store {online}")


@features_app.command("materialize")
def materialize_cmd(
    ctx: typer.Context,
    source: Annotated[
        str | None, typer.Option(help="Interactions source (default: recommend.source).")
    ] = None,
) -> None:
    """Compute the book and reader features from the catalog and an interactions source into
    <data_dir>/features/sources (Parquet), apply the repo and load the online store."""
    settings = current_settings(ctx)
    repo = _repo(settings)
    from vibeshelf.recommend.features.materialize import materialize

    rec = settings.recommend
    with tqdm(total=STAGES, desc="features", unit="stage", disable=None, file=sys.stderr) as bar:

        def step(name: str) -> None:
            bar.set_postfix_str(name)
            bar.update(1)

        try:
            with redirect_stdout(io.StringIO()):  # Feast prints each view it loads
                report = materialize(settings, repo, rec.events_url, source or rec.source, step)
        except _store_errors() as exc:
            fail(str(exc))
    typer.echo(report.summary())
