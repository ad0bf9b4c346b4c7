"""The behaviour every AnalyticsStore backend must show; subclass and provide `store` and `rows`."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from typing import Any

from vibeshelf.analytics.events import Counts, FeedbackEvent, ServedEvent
from vibeshelf.analytics.store import AnalyticsStore

# The rollup recounted from the raw rows: per served list's day, surface, version and position.
RECOUNT = """
SELECT substr(s.ts, 1, 10), s.surface, s.version, i.position, COUNT(*),
  SUM(CASE WHEN EXISTS (SELECT 1 FROM vibeshelf_analytics_feedback f WHERE f.request_id = i.request_id
       AND f.position = i.position AND f.event = 'click') THEN 1 ELSE 0 END)
FROM vibeshelf_analytics_served s JOIN vibeshelf_analytics_items i ON i.request_id = s.request_id
GROUP BY 1, 2, 3, 4
UNION ALL
SELECT substr(s.ts, 1, 10), s.surface, s.version, 0, COUNT(*),
  SUM(CASE WHEN EXISTS (SELECT 1 FROM vibeshelf_analytics_feedback f WHERE f.request_id = s.request_id
       AND f.event = 'click') THEN 1 ELSE 0 END)
FROM vibeshelf_analytics_served s WHERE s.results > 0 GROUP BY 1, 2, 3
"""
ROLLUP = "SELECT day, surface, version, position, served, clicked, ctr FROM vibeshelf_analytics_daily"


def served(request_id: str, version: str, results: int = 10, surface: str = "search",
           day: str = "2024-05-01") -> ServedEvent:
    items = tuple(f"b{i}" for i in range(results))
    return ServedEvent(request_id, surface, version, items, 12.5, f"{day}T12:00:00.000+00:00")


def feedback(request_id: str, version: str, position: int, event: str = "click",
             surface: str = "search", day: str = "2024-05-01") -> FeedbackEvent:
    return FeedbackEvent(request_id, surface, version, position, event, None, day,
                         f"{day}T12:05:00.000+00:00")


class AnalyticsStoreContract:
    """Every analytics store passes these; a subclass provides `store` (empty) and `rows(store, sql)`."""

    def rows(self, store: AnalyticsStore, sql: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def test_counts_are_result_lists_and_those_clicked(self, store: AnalyticsStore) -> None:
        events = [served(f"a{i}", "A") for i in range(5)]
        events += [served("empty", "A", results=0), served("b0", "B"),
                   served("other", "A", surface="recommend")]
        events += [feedback("a0", "A", 1), feedback("a0", "A", 2),  # same list: one clicked list
                   feedback("a1", "A", 1, "impression"), feedback("b0", "B", 4, "add_to_shelf")]
        assert store.write(events) == len(events)
        assert store.counts("search") == {"A": Counts(5, 1), "B": Counts(1, 0)}
        assert store.counts("recommend") == {"A": Counts(1, 0)}
        assert store.events("search") == {"A": {"click": 2, "impression": 1},
                                          "B": {"add_to_shelf": 1}}

    def test_a_repeated_event_counts_once(self, store: AnalyticsStore) -> None:
        batch = [served("r1", "A"), feedback("r1", "A", 3)]
        store.write(batch)
        assert store.write(batch) == 0  # a redelivered task
        assert store.counts("search") == {"A": Counts(1, 1)}

    def test_timeline_is_per_day_of_the_served_list(self, store: AnalyticsStore) -> None:
        store.write([served("d1", "A", day="2024-05-01"), served("d2", "A", day="2024-05-02")])
        store.write([feedback("d1", "A", 1, day="2024-05-01")])  # clicked the next day: still day 1
        day = lambda d: datetime(2024, 5, d, tzinfo=UTC)
        assert store.timeline("search") == {"A": [(day(1), Counts(1, 1)), (day(2), Counts(1, 0))]}

    def test_pruning_drops_old_raw_rows_and_keeps_their_counts(self, store: AnalyticsStore) -> None:
        store.write([served("old", "A", day="2024-05-01"), served("new", "A", day="2024-05-03"),
                     feedback("old", "A", 2, day="2024-05-01"), feedback("new", "A", 1, day="2024-05-03")])
        before = (store.counts("search"), store.timeline("search"), store.events("search"))
        store.prune(date(2024, 5, 2))
        left = lambda table: [r[0] for r in self.rows(store, f"SELECT request_id FROM {table}")]
        assert left("vibeshelf_analytics_served") == ["new"]
        assert set(left("vibeshelf_analytics_items")) == {"new"}
        assert left("vibeshelf_analytics_feedback") == ["new"]
        assert (store.counts("search"), store.timeline("search"), store.events("search")) == before

    def test_a_writer_with_raw_days_prunes_as_it_writes(self, store: AnalyticsStore) -> None:
        store.raw_days = 30  # the events below are from 2024: far older
        store.write([served("r1", "A"), feedback("r1", "A", 1)])
        assert self.rows(store, "SELECT request_id FROM vibeshelf_analytics_served") == []
        assert store.counts("search") == {"A": Counts(1, 1)}

    def test_the_rollup_equals_a_recount_of_the_raw_rows(self, store: AnalyticsStore) -> None:
        rng = random.Random(5)
        events: list[Any] = []
        for i in range(300):
            version, day = rng.choice("ABC"), f"2024-05-0{rng.randint(1, 3)}"
            results = rng.randint(0, 8)
            surface = rng.choice(("search", "recommend"))
            events.append(served(f"r{i}", version, results, surface, day))
            for position in rng.sample(range(1, results + 1), k=min(results, rng.randint(0, 3))):
                events.append(feedback(f"r{i}", version, position, surface=surface, day=day))
        rng.shuffle(events)  # feedback may land before its list (another worker's batch)
        for start in range(0, len(events), 37):
            store.write(events[start : start + 37])
        rollup = {row[:4]: (int(row[4]), int(row[5])) for row in self.rows(store, ROLLUP)}
        recount = {row[:4]: (int(row[4]), int(row[5])) for row in self.rows(store, RECOUNT)}
        assert rollup == recount and sum(c for _, c in rollup.values()) > 100
        for *_, shown, clicked, ctr in self.rows(store, ROLLUP):
            assert ctr == clicked / shown
