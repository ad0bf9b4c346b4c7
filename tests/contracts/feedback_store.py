"""The behaviour every FeedbackStore backend must show; subclass and provide `store`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vibeshelf.experiment.feedback.events import (
    DuplicateFeedbackError,
    Feedback,
    FeedbackLimitError,
    UnknownRequestError,
)
from vibeshelf.experiment.feedback.store import FeedbackStore


class FeedbackStoreContract:
    """Every feedback store passes these; a subclass provides the `store` fixture (an empty store)."""

    def test_feedback_names_the_version_that_served(self, store: FeedbackStore) -> None:
        store.record_served("r1", "search", "v1", 10)
        served = store.add(Feedback(request_id="r1", position=3, event="click"))
        assert (served.surface, served.version) == ("search", "v1")
        assert served.day == datetime.now(UTC).date().isoformat()

    def test_unknown_requests_and_positions_are_refused(self, store: FeedbackStore) -> None:
        store.record_served("r1", "search", "v1", 2)
        with pytest.raises(UnknownRequestError, match="was served to this session"):
            store.add(Feedback(request_id="nope", position=1, event="click"))
        with pytest.raises(UnknownRequestError, match="2 results"):
            store.add(Feedback(request_id="r1", position=3, event="click"))

    def test_feedback_comes_only_from_the_session_served(self, store: FeedbackStore) -> None:
        store.record_served("r1", "search", "v1", 5, session="s1")
        for other in (None, "s2"):
            with pytest.raises(UnknownRequestError, match="was served to this session"):
                store.add(Feedback(request_id="r1", position=1, event="click"), other)
        assert store.add(Feedback(request_id="r1", position=1, event="click"), "s1").version == "v1"

    def test_a_session_sends_at_most_per_hour_events(self, store: FeedbackStore) -> None:
        for i in range(3):
            store.record_served(f"r{i}", "search", "v1", 5, session="s1")
        store.record_served("mine", "search", "v1", 5, session="s2")
        for i in range(2):
            store.add(Feedback(request_id=f"r{i}", position=1, event="click"), "s1", per_hour=2)
        with pytest.raises(FeedbackLimitError, match="2 feedback events"):
            store.add(Feedback(request_id="r2", position=1, event="click"), "s1", per_hour=2)
        store.add(Feedback(request_id="mine", position=1, event="click"), "s2", per_hour=2)

    def test_the_same_event_twice_is_a_duplicate(self, store: FeedbackStore) -> None:
        store.record_served("r1", "recommend", "v1", 5)
        store.add(Feedback(request_id="r1", position=1, event="click"))
        with pytest.raises(DuplicateFeedbackError):
            store.add(Feedback(request_id="r1", position=1, event="click"))
        store.add(Feedback(request_id="r1", position=1, event="rating", value=4.0))
        store.add(Feedback(request_id="r1", position=2, event="click"))
