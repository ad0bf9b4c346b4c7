"""The behaviour every FeedbackStore backend must show; subclass and provide `store`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vibeshelf.experiment.feedback import store as feedback_store
from vibeshelf.experiment.feedback.events import (
    Counts,
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

    def test_unknown_requests_and_positions_are_refused(self, store: FeedbackStore) -> None:
        store.record_served("r1", "search", "v1", 2)
        with pytest.raises(UnknownRequestError, match="was served to this session"):
            store.add(Feedback(request_id="nope", position=1, event="click"))
        with pytest.raises(UnknownRequestError, match="2 results"):
            store.add(Feedback(request_id="r1", position=3, event="click"))
        assert store.events("search") == {}

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
        assert store.counts("search") == {"v1": Counts(4, 3)}

    def test_the_same_event_twice_is_a_duplicate(self, store: FeedbackStore) -> None:
        store.record_served("r1", "recommend", "v1", 5)
        store.add(Feedback(request_id="r1", position=1, event="click"))
        with pytest.raises(DuplicateFeedbackError):
            store.add(Feedback(request_id="r1", position=1, event="click"))
        store.add(Feedback(request_id="r1", position=1, event="rating", value=4.0))
        store.add(Feedback(request_id="r1", position=2, event="click"))
        assert store.events("recommend") == {"v1": {"click": 2, "rating": 1}}

    def test_counts_are_result_lists_and_those_clicked(self, store: FeedbackStore) -> None:
        for i in range(5):
            store.record_served(f"a{i}", "search", "A", 10)
        store.record_served("empty", "search", "A", 0)  # nothing shown: no impression
        store.record_served("b0", "search", "B", 10)
        store.record_served("other", "recommend", "A", 10)
        store.add(Feedback(request_id="a0", position=1, event="click"))
        store.add(Feedback(request_id="a0", position=2, event="click"))  # same list, one click
        store.add(Feedback(request_id="a1", position=1, event="impression"))
        store.add(Feedback(request_id="b0", position=4, event="add_to_shelf"))
        assert store.counts("search") == {"A": Counts(5, 1), "B": Counts(1, 0)}
        assert store.counts("recommend") == {"A": Counts(1, 0)}

    def test_timeline_buckets_served_lists_by_time(
        self, store: FeedbackStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def served_at(
            minute: int, second: int, request_id: str, version: str, results: int = 10,
            surface: str = "search", hour: int = 12,
        ) -> None:
            ts = f"2024-05-01T{hour:02d}:{minute:02d}:{second:02d}.250+00:00"
            monkeypatch.setattr(feedback_store, "_now", lambda: ts)
            store.record_served(request_id, surface, version, results)

        assert store.timeline("search") == {}
        served_at(0, 5, "a0", "A")
        served_at(0, 40, "a1", "A")
        served_at(0, 41, "none", "A", results=0)  # nothing shown: no impression
        served_at(3, 0, "a2", "A")
        served_at(3, 1, "b0", "B")
        store.add(Feedback(request_id="a1", position=1, event="click"))
        store.add(Feedback(request_id="a1", position=2, event="click"))
        store.add(Feedback(request_id="b0", position=1, event="click"))
        minute = lambda m: datetime(2024, 5, 1, 12, m, tzinfo=UTC)
        assert store.timeline("search") == {  # 3 minutes served: one-minute buckets
            "A": [(minute(0), Counts(2, 1)), (minute(3), Counts(1, 0))],
            "B": [(minute(3), Counts(1, 1))],
        }
        assert store.timeline("recommend") == {}
        served_at(0, 0, "r0", "R", surface="recommend")
        served_at(0, 30, "r1", "R", surface="recommend")
        second = lambda s: datetime(2024, 5, 1, 12, 0, s, tzinfo=UTC)
        assert store.timeline("recommend") == {"R": [(second(0), Counts(1, 0)),
                                                     (second(30), Counts(1, 0))]}
        served_at(0, 0, "r2", "R", surface="recommend", hour=18)  # 6 hours: hourly buckets
        assert store.timeline("recommend") == {"R": [
            (datetime(2024, 5, 1, 12, tzinfo=UTC), Counts(2, 0)),
            (datetime(2024, 5, 1, 18, tzinfo=UTC), Counts(1, 0)),
        ]}
