"""`vibeshelf train recs`: fit the ALS recommender in this process or on Spark, and serve the result."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from vibeshelf.cli.errors import fail
from vibeshelf.cli.recommend import recommend_settings
from vibeshelf.config.extras import require_extra
from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.config.spark import SparkSettings
from vibeshelf.settings import Settings

if TYPE_CHECKING:
    from vibeshelf.recommend.training import TrainingEngine

Engine = Literal["local", "spark"]


def train_recs_cmd(
    ctx: typer.Context,
    source: Annotated[
        str | None, typer.Option(help="Interactions source (default from settings).")
    ] = None,
    factors: Annotated[int | None, typer.Option(help="Latent factors.")] = None,
    regularization: Annotated[float | None, typer.Option(help="L2 regularisation.")] = None,
    alpha: Annotated[
        float | None, typer.Option(help="Confidence scale: c = 1 + alpha * strength.")
    ] = None,
    iterations: Annotated[int | None, typer.Option(help="ALS iterations.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (same seed, same factors).")] = None,
    evaluate: Annotated[
        bool, typer.Option("--eval/--no-eval", help="Score a holdout fit into the metadata.")
    ] = True,
    reuse: Annotated[
        bool,
        typer.Option(help="Keep the current version if it was fitted on the same interactions, "
                          "catalog, parameters and seed (the fit is deterministic)."),
    ] = False,
    engine: Annotated[
        Engine,
        typer.Option(help="local: ALS in this process; spark: Spark MLlib's ALS on interactions "
                          "exported to Parquet (the spark extra and a Java runtime)."),
    ] = "local",
    spark_master: Annotated[
        str | None,
        typer.Option(help="With --engine spark: the master URL, e.g. spark://host:7077 "
                          "(default recommend.spark.master, local[*])."),
    ] = None,
) -> None:
    """Train the ALS recommender on a source and make it the served version (models/recs/CURRENT)."""
    from vibeshelf.experiment.registry import RegistryFile
    from vibeshelf.recommend.artifacts import current_version, recs_root
    from vibeshelf.recommend.training import train_recs
    from vibeshelf.storage.errors import StorageError

    settings, rec = recommend_settings(
        ctx,
        source=source,
        factors=factors,
        regularization=regularization,
        alpha=alpha,
        iterations=iterations,
        seed=seed,
    )
    try:
        training = _engine(settings, rec, engine, spark_master)
        held = RegistryFile(settings.experiments_dir).read().recs_versions_in_use()
        before = current_version(recs_root(settings))
        with training as chosen:
            model = train_recs(
                settings, rec, evaluate=evaluate, progress=True, held=held, reuse=reuse,
                engine=chosen,
            )
    except (StorageError, FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    meta = model.metadata
    if meta["version"] == before:
        typer.echo(f"kept {before}: fitted on the same interactions, catalog and settings")
        return
    holdout = ""
    if meta["metrics"]:
        als, pop = meta["metrics"]["als"], meta["metrics"]["popularity"]
        holdout = (
            f"; holdout NDCG@10 {als['ndcg_at_10']:.4f} (popularity {pop['ndcg_at_10']:.4f}), "
            f"HR@10 {als['hr_at_10']:.4f}, recall@50 {als['recall_at_50']:.4f}"
        )
    typer.echo(
        f"trained {meta['version']} on {meta['source']} ({meta['engine']['name']}): "
        f"{meta['counts']['users']:,} users, {meta['counts']['items']:,} items, "
        f"{meta['counts']['interactions']:,} interactions in {meta['train_seconds']}s -> "
        f"{recs_root(settings) / meta['version']}{holdout}"
    )


def _engine(
    settings: Settings, rec: RecommendSettings, engine: Engine, master: str | None
) -> AbstractContextManager[TrainingEngine | None]:
    """The chosen engine, opened by the caller's `with`; ValueError for a bad master or no pyspark."""
    if engine == "local":
        if master is not None:
            raise ValueError("--spark-master needs --engine spark")
        return nullcontext(None)
    require_extra("spark", "--engine spark")
    if master is not None:
        spark = SparkSettings.model_validate({**rec.spark.model_dump(), "master": master})
        rec = rec.model_copy(update={"spark": spark})
    from vibeshelf.recommend.spark.engine import spark_engine

    return spark_engine(settings, rec, progress=True)
