"""`vibeshelf train ranker`: fit the learned ranker on one half of the held-out readers, score the other."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from typing import Annotated

import typer

from vibeshelf.cli.errors import fail
from vibeshelf.cli.settings import current_settings
from vibeshelf.config.extras import MissingExtraError, require_extra
from vibeshelf.config.recommend import RecommendSettings


def train_ranker_cmd(
    ctx: typer.Context,
    source: Annotated[
        str | None, typer.Option(help="Interactions source (default: recommend.source).")
    ] = None,
    train_readers: Annotated[
        int | None, typer.Option(help="At most this many readers fit the ranker.")
    ] = None,
    eval_readers: Annotated[
        int | None, typer.Option(help="At most this many other readers evaluate it.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """LightGBM LambdaRank over the merged candidate sources (recommend.retrieval) and the Feast
    features of the split's training part: writes a ranker version, materializes the served
    feature store, and prints ALS, item-item, the merged candidates and two-stage with and without rules
    side by side on the evaluation readers."""
    try:
        require_extra("ranker", "`vibeshelf train ranker`")
    except MissingExtraError as exc:
        fail(str(exc))
    from vibeshelf.recommend.features.materialize import FeatureInputError
    from vibeshelf.recommend.twostage.evaluation import train_and_evaluate
    from vibeshelf.storage.errors import StorageError

    settings = current_settings(ctx)
    given = {"train_readers": train_readers, "eval_readers": eval_readers}
    ranking = {
        **settings.recommend.ranking.model_dump(),
        **{k: v for k, v in given.items() if v is not None},
    }
    try:
        rec = RecommendSettings.model_validate(
            {**settings.recommend.model_dump(), "ranking": ranking}
        )
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        fail(f"invalid settings: {exc}")
    try:
        with redirect_stdout(io.StringIO()):  # Feast prints what it applies and materializes
            _, report = train_and_evaluate(settings, rec, source, progress=True)
    except (StorageError, FileNotFoundError, FeatureInputError) as exc:
        fail(str(exc))
    typer.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.table())
