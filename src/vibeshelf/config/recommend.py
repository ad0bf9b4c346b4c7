"""Recommender settings: the events store, the training source and the model's hyper-parameters."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from vibeshelf.config.fields import Fraction, database_url
from vibeshelf.config.retrieval import RetrievalSettings


class RecommendSettings(BaseModel):
    """Defaults were tuned on a validation split of the catalog-linked Book-Crossing ratings.

    Implicit rows (Book-Crossing rating 0) are kept at implicit_weight 0.5: on that split they
    lifted NDCG@10 from 0.061 (dropped) to 0.098. See recommend.confidence for the formula.
    """

    events_url: Annotated[str, database_url("events")] = "sqlite://"
    source: str = "book-crossing-goodbooks"
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
    retrieval: RetrievalSettings = RetrievalSettings()
