"""What a request hands to analytics: the result list it served, or the feedback it stored."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request

from vibeshelf.analytics.events import DEFAULT_VERSION, FeedbackEvent, ServedEvent, now
from vibeshelf.analytics.sink import QueueSink
from vibeshelf.experiment.feedback.events import Feedback, Served


def _sink(request: Request) -> QueueSink | None:
    sink: QueueSink | None = request.app.state.services.analytics
    return sink


def served(
    request: Request, surface: str, request_id: str, version: str | None, items: Iterable[str],
    seconds: float,
) -> None:
    """Queue the list served (book ids in rank order); never waits, never fails the request."""
    sink = _sink(request)
    if sink is not None:
        sink.emit(ServedEvent(
            request_id, surface, version or DEFAULT_VERSION, tuple(items), seconds * 1000, now()
        ))


def fed_back(request: Request, feedback: Feedback, on: Served) -> None:
    """Queue a feedback event the feedback store accepted, under the list it was on."""
    sink = _sink(request)
    if sink is not None:
        sink.emit(FeedbackEvent(
            feedback.request_id, on.surface, on.version, feedback.position, feedback.event,
            feedback.value, on.day, now(),
        ))
