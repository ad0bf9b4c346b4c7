"""A Spark session for training: quiet (WARN), no UI, scratch and warehouse under the work dir."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from vibeshelf.config.spark import SparkSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

APP_NAME = "vibeshelf-train-recs"
# Loggers Spark sets to WARN or louder on top of the WARN level: MLlib's BLAS probing says at
# every start that no native BLAS is there (the pure-JVM one is used).
QUIET_LOGGERS = ("dev.ludovic.netlib",)


@contextmanager
def spark_session(spark: SparkSettings, work_dir: Path) -> Iterator[SparkSession]:
    """The active session if the process has one, else a new one, stopped on the way out.

    Nothing is fetched at run time (no --packages): MLlib is part of pyspark.
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    work_dir.mkdir(parents=True, exist_ok=True)
    builder = (
        SparkSession.builder.master(spark.master)
        .appName(APP_NAME)
        .config("spark.driver.memory", spark.driver_memory)
        .config("spark.executor.memory", spark.executor_memory)
        .config("spark.local.dir", str(work_dir / "local"))
        .config("spark.sql.warehouse.dir", str(work_dir / "warehouse"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    session = builder.getOrCreate()
    try:
        context = session.sparkContext
        context.setLogLevel("WARN")
        levels = context._jvm.org.apache.logging.log4j  # type: ignore[union-attr]
        for name in QUIET_LOGGERS:
            levels.core.config.Configurator.setLevel(name, levels.Level.ERROR)
        context.setCheckpointDir(str(work_dir / "checkpoints"))
        log.info("spark %s on %s", session.version, spark.master)
        yield session
    finally:
        session.stop()
