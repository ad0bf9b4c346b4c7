"""The feedback store: served requests and the feedback on them, committed before the reply."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from vibeshelf.experiment.feedback import schema
from vibeshelf.experiment.feedback.events import (
    DuplicateFeedbackError,
    Feedback,
    FeedbackLimitError,
    Retention,
    Served,
    UnknownRequestError,
)


class FeedbackStore(ABC):
    """SQL shared by both backends; a subclass supplies the connection and its transactions."""

    placeholder = "?"
    retention = Retention()
    _unpruned = 0

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Any]:
        """A cursor inside BEGIN ... COMMIT (ROLLBACK on error), errors as StorageError."""

    @abstractmethod
    def _is_duplicate(self, exc: BaseException) -> bool:
        """Whether `exc` is a primary-key violation."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def record_served(
        self, request_id: str, surface: str, version: str, results: int, session: str | None = None
    ) -> None:
        """Record a served request, under the reader session it was served to (if any)."""
        served = "INSERT INTO vibeshelf_served VALUES (?, ?, ?, ?, ?)"
        to_session = "INSERT INTO vibeshelf_served_session VALUES (?, ?)"
        with self._lock, self._transaction() as cursor:
            row = (request_id, surface, version, results, _now())
            cursor.execute(served.replace("?", self.placeholder), row)
            if session is not None:
                cursor.execute(to_session.replace("?", self.placeholder), (request_id, session))
        self._unpruned += 1
        if self._unpruned >= self.retention.every:
            self._unpruned = 0
            self.prune()

    def prune(self) -> None:
        """Delete the served requests past the retention, with their feedback."""
        oldest = (datetime.now(UTC) - timedelta(days=self.retention.max_days)).isoformat(
            timespec="milliseconds"
        )
        with self._lock, self._transaction() as cursor:
            cursor.execute(schema.NTH_NEWEST.replace("?", self.placeholder), (self.retention.max_rows - 1,))
            row = cursor.fetchone()
            cutoff = max(oldest, row[0]) if row else oldest
            for sql in schema.PRUNE:
                cursor.execute(sql.replace("?", self.placeholder), (cutoff,))

    def add(
        self, feedback: Feedback, session: str | None = None, per_hour: int | None = None
    ) -> Served:
        """Store one event from `session`, which must be the one the request was served to.

        UnknownRequestError for a request not served to this session (or without that position),
        DuplicateFeedbackError for a repeat, FeedbackLimitError past `per_hour` events of the
        session.
        """
        sql = "INSERT INTO vibeshelf_feedback VALUES (?, ?, ?, ?, ?)".replace("?", self.placeholder)
        with self._lock, self._transaction() as cursor:
            cursor.execute(schema.SERVED.replace("?", self.placeholder), (feedback.request_id,))
            row = cursor.fetchone()
            if row is None or row[3] != session:
                raise UnknownRequestError(
                    f"no request {feedback.request_id!r} was served to this session"
                )
            if session is not None and per_hour is not None:
                self._check_rate(cursor, session, per_hour)
            if feedback.position > row[2]:
                raise UnknownRequestError(
                    f"request {feedback.request_id!r} had {row[2]} results, not {feedback.position}"
                )
            try:
                cursor.execute(sql, (feedback.request_id, feedback.position, feedback.event,
                                     feedback.value, _now()))
            except Exception as exc:
                if self._is_duplicate(exc):
                    raise DuplicateFeedbackError(
                        f"{feedback.event} at position {feedback.position} of request "
                        f"{feedback.request_id!r} was recorded already"
                    ) from exc
                raise
        return Served(surface=row[0], version=row[1], day=row[4][:10])

    def _check_rate(self, cursor: Any, session: str, per_hour: int) -> None:
        since = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="milliseconds")
        cursor.execute(schema.SESSION_EVENTS.replace("?", self.placeholder), (session, since))
        if cursor.fetchone()[0] >= per_hour:
            raise FeedbackLimitError(
                f"this session sent {per_hour} feedback events in the last hour"
            )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")

