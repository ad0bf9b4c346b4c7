"""Reader feedback on a served request, and what the request was served by."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

Event = Literal["impression", "click", "add_to_shelf", "rating"]


class Feedback(BaseModel):
    """What a reader did with the result at `position` (1-based) of a served request."""

    request_id: str = Field(min_length=1, max_length=64)
    position: int = Field(ge=1, le=500)
    event: Event
    value: float | None = Field(default=None, ge=-1e6, le=1e6, description="e.g. the stars of a rating")


class UnknownRequestError(LookupError):
    """No served request has this id, or it had no result at that position."""


class DuplicateFeedbackError(ValueError):
    """This (request_id, position, event) was recorded already."""


class FeedbackLimitError(ValueError):
    """The session has sent as many feedback events as it may in an hour."""


class Served(BaseModel):
    """A served request: its surface, the version that answered it and its day (UTC)."""

    surface: str
    version: str
    day: str


@dataclass(frozen=True)
class Retention:
    """The served requests a store keeps: the newest `max_rows`, none older than `max_days`."""

    max_rows: int = 1_000_000
    max_days: float = 90.0

    @property
    def every(self) -> int:
        """Prune after this many new served requests: the table stays within 10 % of max_rows."""
        return max(1, min(1000, self.max_rows // 10))
