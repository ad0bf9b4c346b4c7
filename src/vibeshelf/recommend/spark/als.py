"""MLlib's implicit ALS as an ALS solver: indexed interactions to Parquet, fit on Spark, factors back.

MLlib minimises the same Hu-Koren-Volinsky loss with c_ui = 1 + alpha * r_ui and p_ui = 1 for r_ui > 0,
so it is given r_ui = s_ui = (c_ui - 1) / alpha. It solves each normal equation exactly (Cholesky)
instead of with a few CG steps, starts from its own random factors, and scales the regularisation by
each row's interaction count (ALS-WR): `reg_param` is derived from `regularization` (SparkSettings).
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp
from tqdm import tqdm

from vibeshelf.config.spark import SparkSettings
from vibeshelf.recommend.models.als import AlsParams

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

# MLlib drops pairs with r_ui <= 0; a zero strength (c_ui = 1) becomes this instead.
MIN_RATING = 1e-6


class SparkAls:
    """An AlsSolver that fits on `session`; records the regularisation it used in `details`."""

    def __init__(
        self,
        session: SparkSession,
        spark: SparkSettings,
        alpha: float,
        work_dir: Path,
        details: dict[str, Any],
    ) -> None:
        if alpha <= 0:
            raise ValueError("the spark engine needs recommend.alpha > 0 (MLlib's c = 1 + alpha r)")
        self.session = session
        self.spark = spark
        self.alpha = alpha
        self.work_dir = work_dir
        self.details = details

    def __call__(
        self, confidence: sp.csr_matrix, params: AlsParams, progress: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        from pyspark.ml.recommendation import ALS

        reg = self.reg_param(confidence, params.regularization)
        self.details["reg_param"] = round(reg, 6)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="als-", dir=self.work_dir) as tmp:
            scratch = Path(tmp)
            started = time.perf_counter()
            self._stage(progress, f"writing {confidence.nnz:,} interactions to Parquet")
            self._write_ratings(confidence, scratch / "ratings.parquet")
            ratings = self.session.read.parquet(str(scratch / "ratings.parquet"))
            blocks = self.spark.blocks or 10  # MLlib's default block count
            if self.spark.blocks:
                ratings = ratings.repartition(self.spark.blocks)
            self._stage(
                progress,
                f"fitting rank {params.factors}, {params.iterations} iterations, regParam {reg:.4g} "
                f"on {self.session.sparkContext.master}",
            )
            als = ALS(
                rank=params.factors,
                maxIter=params.iterations,
                regParam=reg,
                implicitPrefs=True,
                alpha=self.alpha,
                seed=params.seed,
                userCol="user",
                itemCol="item",
                ratingCol="rating",
                numUserBlocks=blocks,
                numItemBlocks=blocks,
                checkpointInterval=self.spark.checkpoint_interval,
            )
            model = als.fit(ratings)
            model.userFactors.write.parquet(str(scratch / "users"))
            model.itemFactors.write.parquet(str(scratch / "items"))
            self._stage(progress, "reading the factors back")
            users = _dense(scratch / "users", confidence.shape[0], params.factors)
            items = _dense(scratch / "items", confidence.shape[1], params.factors)
            self._stage(progress, f"done in {time.perf_counter() - started:.1f}s")
        return users, items

    def reg_param(self, confidence: sp.csr_matrix, regularization: float) -> float:
        """The configured reg_param, else regularization / mean interactions per active book.

        MLlib's penalty on a book is reg_param x its readers: this matches `regularization` at the
        mean book (readers hold a few books each; the books' side is where the penalty bites).
        """
        if self.spark.reg_param is not None:
            return self.spark.reg_param
        active = int(np.count_nonzero(np.bincount(confidence.indices)))
        return regularization / (confidence.nnz / active) if active else regularization

    def _write_ratings(self, confidence: sp.csr_matrix, path: Path) -> None:
        """(user, item, rating) rows with rating = (c - 1) / alpha, the strength MLlib expects."""
        coo = confidence.tocoo()
        rating = np.maximum((coo.data.astype(np.float64) - 1.0) / self.alpha, MIN_RATING)
        table = pa.table(
            {
                "user": pa.array(coo.row, pa.int32()),
                "item": pa.array(coo.col, pa.int32()),
                "rating": pa.array(rating.astype(np.float32)),
            }
        )
        pq.write_table(table, path)

    @staticmethod
    def _stage(progress: bool, message: str) -> None:
        log.info("spark ALS: %s", message)
        if progress:
            tqdm.write(f"spark ALS: {message}", file=sys.stderr)


def _dense(path: Path, rows: int, rank: int) -> np.ndarray:
    """MLlib's (id, features) factor rows as a rows x rank float32 array; absent ids stay zero."""
    table = pq.read_table(path)
    out = np.zeros((rows, rank), np.float32)
    if table.num_rows:
        ids = table.column("id").to_numpy()
        values = table.column("features").combine_chunks().flatten().to_numpy()
        out[ids] = values.reshape(len(ids), rank)
    return out
