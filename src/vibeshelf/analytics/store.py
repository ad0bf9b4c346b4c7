"""The analytics store: each batch written with its daily rollup in one transaction."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from vibeshelf.analytics import schema
from vibeshelf.analytics.events import Counts, Event, FeedbackEvent, ServedEvent

Key = tuple[str, str, str, int]  # day, surface, version, position
PRUNE_EVERY_S = 3_600.0


class AnalyticsStore:
    """The same SQL on SQLite or PostgreSQL: `transaction()` yields a cursor inside one
    transaction (errors as StorageError), `release` closes the connection, `placeholder` is the
    driver's parameter mark. With `raw_days`, a write at most once an hour deletes the raw rows
    of lists served more than `raw_days` days ago (the daily rollup keeps their counts)."""

    def __init__(
        self, transaction: Callable[[], AbstractContextManager[Any]], release: Callable[[], None],
        placeholder: str, raw_days: int | None = None,
    ) -> None:
        self._transaction = transaction
        self._release = release
        self.placeholder = placeholder
        self.raw_days = raw_days
        self._lock = threading.Lock()
        self._pruned_at = float("-inf")

    def close(self) -> None:
        with self._lock:
            self._release()

    def _sql(self, sql: str) -> str:
        return sql.replace("?", self.placeholder)

    def write(self, events: Iterable[Event]) -> int:
        """Insert the events not stored yet and add them to the daily rollup, all in one
        transaction (a repeated event counts once); returns how many were new."""
        lists: Counter[Key] = Counter()
        clicks: Counter[Key] = Counter()
        kinds: Counter[tuple[str, str, str, str]] = Counter()
        new = 0
        with self._lock, self._transaction() as cursor:
            for event in events:
                if isinstance(event, ServedEvent):
                    new += self._served(cursor, event, lists)
                else:
                    new += self._feedback(cursor, event, clicks, kinds)
            for key in lists.keys() | clicks.keys():
                served, clicked = lists[key], clicks[key]
                ctr = clicked / served if served else None
                cursor.execute(self._sql(schema.ADD_DAILY), (*key, served, clicked, ctr))
            for kind, n in kinds.items():
                cursor.execute(self._sql(schema.ADD_EVENTS), (*kind, n))
        if self.raw_days is not None and time.monotonic() - self._pruned_at >= PRUNE_EVERY_S:
            self._pruned_at = time.monotonic()
            self.prune(datetime.now(UTC).date() - timedelta(days=self.raw_days))
        return new

    def prune(self, before: date) -> None:
        """Delete the raw rows of lists served before `before` and the feedback on them."""
        with self._lock, self._transaction() as cursor:
            for sql in schema.PRUNE:
                cursor.execute(self._sql(sql), (before.isoformat(),))

    def _served(self, cursor: Any, event: ServedEvent, lists: Counter[Key]) -> int:
        row = (event.request_id, event.surface, event.version, len(event.items), event.latency_ms,
               event.ts)
        cursor.execute(self._sql(schema.INSERT_SERVED), row)
        if cursor.rowcount != 1:
            return 0
        cursor.executemany(self._sql(schema.INSERT_ITEM), [
            (event.request_id, position, book) for position, book in enumerate(event.items, 1)
        ])
        for position in range(len(event.items) + 1) if event.items else ():  # 0: the list
            lists[(event.day, event.surface, event.version, position)] += 1
        return 1

    def _feedback(
        self, cursor: Any, event: FeedbackEvent, clicks: Counter[Key],
        kinds: Counter[tuple[str, str, str, str]],
    ) -> int:
        row = (event.request_id, event.position, event.event, event.value, event.surface,
               event.version, event.served_day, event.ts)
        cursor.execute(self._sql(schema.INSERT_FEEDBACK), row)
        if cursor.rowcount != 1:
            return 0
        kinds[(event.served_day, event.surface, event.version, event.event)] += 1
        if event.event == "click":
            clicks[(event.served_day, event.surface, event.version, event.position)] += 1
            cursor.execute(self._sql(schema.CLICKS_OF), (event.request_id,))
            if cursor.fetchone()[0] == 1:  # the list's first click
                clicks[(event.served_day, event.surface, event.version, 0)] += 1
        return 1

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock, self._transaction() as cursor:
            cursor.execute(self._sql(sql), params)
            return list(cursor.fetchall())

    def timeline(self, surface: str) -> dict[str, list[tuple[datetime, Counts]]]:
        """Per version, oldest first: (day, result lists served that day, and those clicked)."""
        out: dict[str, list[tuple[datetime, Counts]]] = {}
        for version, day, served, clicked in self._rows(schema.LISTS, (surface,)):
            start = datetime.fromisoformat(day).replace(tzinfo=UTC)
            out.setdefault(version, []).append((start, Counts(int(served), int(clicked))))
        return out

    def counts(self, surface: str) -> dict[str, Counts]:
        """Per version: result lists served (impressions) and those with at least one click."""
        out: dict[str, Counts] = {}
        for version, days in self.timeline(surface).items():
            shown, clicked = (sum(c.impressions for _, c in days), sum(c.clicks for _, c in days))
            out[version] = Counts(shown, clicked)
        return out

    def events(self, surface: str) -> dict[str, dict[str, int]]:
        """Per version: feedback events by kind."""
        out: dict[str, dict[str, int]] = {}
        for version, event, n in self._rows(schema.EVENTS, (surface,)):
            out.setdefault(version, {})[event] = int(n)
        return out
