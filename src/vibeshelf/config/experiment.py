"""Experiment settings: traffic floors and ceilings, the bandit, routing salt and the feedback store."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from vibeshelf.config.fields import database_url


class ExperimentSettings(BaseModel):
    """How versions of a surface share traffic; see experiment.bandit for the formulas."""

    feedback_url: Annotated[str, database_url("feedback")] = "sqlite://"
    salt: str = "vibeshelf"
    floor: Annotated[float, Field(ge=0.0, le=50.0)] = 1.0
    ceiling: Annotated[float, Field(ge=50.0, le=100.0)] = 99.0
    min_impressions: Annotated[int, Field(ge=0, le=10_000_000)] = 200
    samples: Annotated[int, Field(ge=100, le=1_000_000)] = 10_000
    max_step: Annotated[float, Field(gt=0.0, le=100.0)] = 10.0
    update_seconds: Annotated[float, Field(ge=0.0, le=86_400.0)] = 0.0
    max_feedback_per_hour: Annotated[int, Field(ge=1, le=1_000_000)] = 60
    seed: int | None = None
    served_max_rows: Annotated[int, Field(ge=10, le=1_000_000_000)] = 1_000_000
    served_max_days: Annotated[float, Field(gt=0.0, le=36_500.0)] = 90.0
