"""What analytics records: a served result list, a feedback event, and the counts read back."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

DEFAULT_VERSION = "default"  # a surface served without an experiment


@dataclass(frozen=True)
class Counts:
    """Served result lists (impressions) of one version, and how many of them got a click."""

    impressions: int = 0
    clicks: int = 0


@dataclass(frozen=True)
class ServedEvent:
    """A result list served: book ids in rank order (position = index + 1), its service time."""

    request_id: str
    surface: str
    version: str
    items: tuple[str, ...]
    latency_ms: float
    ts: str

    @property
    def day(self) -> str:
        return self.ts[:10]


@dataclass(frozen=True)
class FeedbackEvent:
    """A reader's event on the result at `position` of a served list (`served_day`: the list's day)."""

    request_id: str
    surface: str
    version: str
    position: int
    event: str
    value: float | None
    served_day: str
    ts: str


Event = ServedEvent | FeedbackEvent


def now() -> str:
    """The current time as stored: ISO 8601 UTC to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def encode(event: Event) -> dict[str, Any]:
    """A JSON-ready dict of `event` (the Celery task's argument), tagged with its kind."""
    return {"kind": "served" if isinstance(event, ServedEvent) else "feedback", **asdict(event)}


def decode(data: dict[str, Any]) -> Event:
    """The event `encode` made `data` from."""
    fields = {k: v for k, v in data.items() if k != "kind"}
    if data["kind"] == "served":
        return ServedEvent(**{**fields, "items": tuple(fields["items"])})
    return FeedbackEvent(**fields)
