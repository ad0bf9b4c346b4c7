"""The spark training engine: interactions read from Parquet, ALS fitted by MLlib on a Spark session."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm

from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.spark.als import SparkAls
from vibeshelf.recommend.spark.parquet import load_parquet_training_data
from vibeshelf.recommend.spark.session import spark_session
from vibeshelf.recommend.training import TrainingEngine
from vibeshelf.settings import Settings


def spark_work_dir(settings: Settings) -> Path:
    """Spark's scratch, warehouse, checkpoints and the solver's Parquet files: <data_dir>/spark."""
    return settings.data_dir / "spark"


@contextmanager
def spark_engine(
    settings: Settings, rec: RecommendSettings, progress: bool = False
) -> Iterator[TrainingEngine]:
    """A TrainingEngine on a Spark session at `rec.spark.master` (the process's active one if any)."""
    work_dir = spark_work_dir(settings)
    if progress:
        tqdm.write(f"spark: starting a session on {rec.spark.master}", file=sys.stderr)
    with spark_session(rec.spark, work_dir) as session:
        details: dict[str, object] = {
            "master": session.sparkContext.master,
            "spark_version": session.version,
        }
        solver = SparkAls(session, rec.spark, rec.alpha, work_dir, details)
        yield TrainingEngine("spark", load_parquet_training_data, solver, details)
