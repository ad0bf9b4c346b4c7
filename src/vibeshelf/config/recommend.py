"""Recommender settings: the events store, the training source and the model's hyper-parameters."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from vibeshelf.config.features import FeatureStoreSettings
from vibeshelf.config.fields import CacheEntries, Fraction, database_url
from vibeshelf.config.ranking import RankingSettings
from vibeshelf.config.retrieval import RetrievalSettings
from vibeshelf.config.spark import SparkSettings
from vibeshelf.config.two_tower import TwoTowerSettings
from vibeshelf.config.urls import check_url


class RecommendSettings(BaseModel):
    """Defaults were tuned on a validation split of the catalog-linked Book-Crossing ratings.

    Implicit rows (Book-Crossing rating 0) are kept at implicit_weight 0.5: on that split they
    lifted NDCG@10 from 0.061 (dropped) to 0.098. See recommend.confidence for the formula.
    """

    events_url: Annotated[str, database_url("events")] = "sqlite://"
    # The interactions source to train on: "auto" picks goodbooks when it was ingested, else
    # book-crossing-goodbooks (what the bundled sample has), else the only source there is.
    source: str = "auto"
    factors: Annotated[int, Field(ge=2, le=1024)] = 256
    regularization: Annotated[float, Field(ge=0.0, le=10_000.0)] = 200.0
    alpha: Annotated[float, Field(ge=0.0, le=10_000.0)] = 100.0
    iterations: Annotated[int, Field(ge=1, le=200)] = 15
    cg_steps: Annotated[int, Field(ge=1, le=20)] = 3
    keep_implicit: bool = True
    implicit_weight: Fraction = 0.5
    shelf_shrinkage: Annotated[float, Field(ge=0.0, le=1000.0)] = 2.0
    shelf_ridge: Annotated[float, Field(gt=0.0, le=1000.0)] = 1.0
    seed: int = 42
    holdout_fraction: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.2
    min_user_interactions: Annotated[int, Field(ge=2, le=1000)] = 3
    keep_versions: Annotated[int, Field(ge=1, le=50)] = 5
    ranking: RankingSettings = RankingSettings()
    # Answers cached by every input (model version, reader, liked books, the reader's history,
    # cutoff): "memory://" in each worker, "redis://..." shared by all, "" off.
    cache_url: str = "memory://"
    cache_size: CacheEntries = 10_000
    cache_ttl_s: Annotated[int, Field(ge=1, le=30 * 24 * 3600)] = 3600
    cache_timeout_ms: Annotated[float, Field(gt=0, le=60_000)] = 50.0
    feature_store: FeatureStoreSettings = FeatureStoreSettings()
    two_tower: TwoTowerSettings = TwoTowerSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    spark: SparkSettings = SparkSettings()

    @field_validator("cache_url")
    @classmethod
    def _cache_scheme(cls, url: str) -> str:
        if not url:
            return url
        return check_url(url, "recommend.cache_url", ("memory", "redis"), "memory://, redis://... or \"\"")
