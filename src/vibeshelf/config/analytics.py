"""Analytics settings: where served lists and feedback are recorded, and how they get there."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from vibeshelf.config.extras import require_extra
from vibeshelf.config.fields import database_url
from vibeshelf.config.urls import check_url


class AnalyticsSettings(BaseModel):
    """Every search and recommendation served, and every feedback event, written off the request
    path: by this process's background writer, or by `vibeshelf worker` when `broker_url` is set."""

    enabled: bool = True
    store_url: Annotated[str, database_url("analytics store")] = "sqlite://"
    broker_url: str = ""
    queue_size: Annotated[int, Field(ge=1, le=10_000_000)] = 10_000
    batch_size: Annotated[int, Field(ge=1, le=100_000)] = 500
    flush_seconds: Annotated[float, Field(gt=0.0, le=60.0)] = 0.2
    broker_timeout_seconds: Annotated[float, Field(gt=0.0, le=60.0)] = 1.0
    # Days the raw rows (each list served, its books, the feedback on it) are kept; the daily
    # rollup that the dashboard and the bandit read is kept for good.
    raw_days: Annotated[int, Field(ge=1, le=36_500)] = 90

    @field_validator("broker_url")
    @classmethod
    def _broker(cls, url: str) -> str:
        """"" (the in-process writer) or a Redis URL, with Celery installed."""
        if url:
            check_url(url, "analytics broker", ("redis",), "redis://host:6379/0")
            require_extra("analytics", "analytics.broker_url")
        return url
