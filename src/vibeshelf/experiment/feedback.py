"""Served requests and reader feedback, in SQLite (default) or PostgreSQL, committed before a reply."""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from vibeshelf.config.urls import sqlite_file
from vibeshelf.storage.errors import StorageError
from vibeshelf.storage.reconnecting import ReconnectingConnection
from vibeshelf.storage.urls import redacted

Event = Literal["impression", "click", "add_to_shelf", "rating"]
DEFAULT_SQLITE_FILE = "feedback.sqlite3"
_DDL = (
    ("CREATE TABLE IF NOT EXISTS vibeshelf_served (request_id TEXT PRIMARY KEY, surface TEXT NOT NULL, "
    "version TEXT NOT NULL, results INTEGER NOT NULL, ts TEXT NOT NULL)"),
    ("CREATE TABLE IF NOT EXISTS vibeshelf_feedback (request_id TEXT NOT NULL, position INTEGER NOT NULL, "
    "event TEXT NOT NULL, value DOUBLE PRECISION, ts TEXT NOT NULL, PRIMARY KEY (request_id, position, event))"),
    "CREATE INDEX IF NOT EXISTS vibeshelf_served_by_version ON vibeshelf_served (surface, version)",
    "CREATE INDEX IF NOT EXISTS vibeshelf_served_by_ts ON vibeshelf_served (ts)",
    ("CREATE TABLE IF NOT EXISTS vibeshelf_served_session (request_id TEXT PRIMARY KEY, "
     "session TEXT NOT NULL)"),
    "CREATE INDEX IF NOT EXISTS vibeshelf_served_by_session ON vibeshelf_served_session (session)",
)
# Retention: served requests older than a cutoff go, and the feedback that names them.
_NTH_NEWEST = "SELECT ts FROM vibeshelf_served ORDER BY ts DESC LIMIT 1 OFFSET ?"
_PRUNE = (
    ("DELETE FROM vibeshelf_feedback WHERE request_id IN "
     "(SELECT request_id FROM vibeshelf_served WHERE ts < ?)"),
    ("DELETE FROM vibeshelf_served_session WHERE request_id IN "
     "(SELECT request_id FROM vibeshelf_served WHERE ts < ?)"),
    "DELETE FROM vibeshelf_served WHERE ts < ?",
)
_SERVED = (
    "SELECT s.surface, s.version, s.results, x.session FROM vibeshelf_served s "
    "LEFT JOIN vibeshelf_served_session x ON x.request_id = s.request_id WHERE s.request_id = ?"
)
_SESSION_EVENTS = (
    "SELECT COUNT(*) FROM vibeshelf_feedback f JOIN vibeshelf_served_session x "
    "ON x.request_id = f.request_id WHERE x.session = ? AND f.ts >= ?"
)
_CLICKED = (
    "SUM(CASE WHEN EXISTS (SELECT 1 FROM vibeshelf_feedback f "
    "WHERE f.request_id = s.request_id AND f.event = 'click') THEN 1 ELSE 0 END)"
)
_SHOWN = "FROM vibeshelf_served s WHERE s.surface = ? AND s.results > 0"
_COUNTS = f"SELECT s.version, COUNT(*), {_CLICKED} {_SHOWN} GROUP BY s.version"
_SPAN = f"SELECT MIN(s.ts), MAX(s.ts) {_SHOWN}"
# Timestamps are ISO 8601 text in UTC, so a prefix is a time bucket: second, minute, hour, day.
_BUCKETS = ((19, 1), (16, 60), (13, 3_600), (10, 86_400))
_TS_TEMPLATE = "0000-01-01T00:00:00"
MAX_BUCKETS = 120
_EVENTS = (
    "SELECT s.version, f.event, COUNT(*) FROM vibeshelf_feedback f JOIN vibeshelf_served s "
    "ON s.request_id = f.request_id WHERE s.surface = ? GROUP BY s.version, f.event"
)


@dataclass(frozen=True)
class Counts:
    """Served result lists (impressions) of one version, and how many of them got a click."""

    impressions: int = 0
    clicks: int = 0


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
    """A served request: its surface and the version that answered it."""

    surface: str
    version: str


@dataclass(frozen=True)
class Retention:
    """The served requests a store keeps: the newest `max_rows`, none older than `max_days`."""

    max_rows: int = 1_000_000
    max_days: float = 90.0

    @property
    def every(self) -> int:
        """Prune after this many new served requests: the table stays within 10 % of max_rows."""
        return max(1, min(1000, self.max_rows // 10))


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

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock, self._transaction() as cursor:
            cursor.execute(sql.replace("?", self.placeholder), params)
            return list(cursor.fetchall()) if cursor.description else []

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
            cursor.execute(_NTH_NEWEST.replace("?", self.placeholder), (self.retention.max_rows - 1,))
            row = cursor.fetchone()
            cutoff = max(oldest, row[0]) if row else oldest
            for sql in _PRUNE:
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
            cursor.execute(_SERVED.replace("?", self.placeholder), (feedback.request_id,))
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
        return Served(surface=row[0], version=row[1])

    def _check_rate(self, cursor: Any, session: str, per_hour: int) -> None:
        since = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="milliseconds")
        cursor.execute(_SESSION_EVENTS.replace("?", self.placeholder), (session, since))
        if cursor.fetchone()[0] >= per_hour:
            raise FeedbackLimitError(
                f"this session sent {per_hour} feedback events in the last hour"
            )

    def counts(self, surface: str) -> dict[str, Counts]:
        """Per version: result lists served (impressions) and those with at least one click."""
        return {v: Counts(int(n), int(c or 0)) for v, n, c in self._run(_COUNTS, (surface,))}

    def timeline(self, surface: str) -> dict[str, list[tuple[datetime, Counts]]]:
        """Per version, oldest first: (bucket start, result lists served in it and those clicked).

        The bucket is the shortest of a second, minute, hour or day that gives at most
        MAX_BUCKETS buckets over the surface's served span.
        """
        [(first, last)] = self._run(_SPAN, (surface,))
        if first is None:
            return {}
        span = (_parse(last) - _parse(first)).total_seconds()
        chars = next((n for n, unit in _BUCKETS if span / unit < MAX_BUCKETS), _BUCKETS[-1][0])
        bucket = f"SUBSTR(s.ts, 1, {chars})"
        rows = self._run(
            f"SELECT s.version, {bucket}, COUNT(*), {_CLICKED} {_SHOWN} "
            f"GROUP BY s.version, {bucket} ORDER BY 2",
            (surface,),
        )
        out: dict[str, list[tuple[datetime, Counts]]] = {}
        for version, prefix, n, clicked in rows:
            start = _parse(prefix + _TS_TEMPLATE[len(prefix) :])
            out.setdefault(version, []).append((start, Counts(int(n), int(clicked or 0))))
        return out

    def events(self, surface: str) -> dict[str, dict[str, int]]:
        """Per version: feedback events by kind."""
        out: dict[str, dict[str, int]] = {}
        for version, event, n in self._run(_EVENTS, (surface,)):
            out.setdefault(version, {})[event] = int(n)
        return out


class SqliteFeedbackStore(FeedbackStore):
    """One SQLite file, WAL with synchronous=FULL: a committed event survives a crash."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            for ddl in _DDL:
                self._conn.execute(ddl)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open feedback database {path}: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        cursor = self._conn.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
            yield cursor
            cursor.execute("COMMIT")
        except BaseException as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error) and not self._is_duplicate(exc):
                raise StorageError(f"feedback database {self.path}: {exc}") from exc
            raise

    def _is_duplicate(self, exc: BaseException) -> bool:
        return isinstance(exc, sqlite3.IntegrityError)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class PostgresFeedbackStore(FeedbackStore):
    """Tables prefixed `vibeshelf_` in the database the URL names (psycopg 3)."""

    placeholder = "%s"

    def __init__(self, url: str) -> None:
        super().__init__()
        import psycopg

        self._psycopg = psycopg
        try:
            self._db = ReconnectingConnection(url, setup=_create_tables)
        except psycopg.Error as exc:
            raise StorageError(f"cannot open feedback database {redacted(url)}: {exc}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        try:
            conn = self._db.get()
            with conn.transaction(), conn.cursor() as cursor:
                yield cursor
        except self._psycopg.Error as exc:
            if self._is_duplicate(exc):
                raise
            raise StorageError(f"feedback database: {exc}") from exc

    def _is_duplicate(self, exc: BaseException) -> bool:
        return isinstance(exc, self._psycopg.errors.UniqueViolation)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _create_tables(conn: Any) -> None:
    for ddl in _DDL:
        conn.execute(ddl)


def open_feedback(url: str, experiments_dir: Path, retention: Retention = Retention()) -> FeedbackStore:
    """`sqlite://[path]` (default <data_dir>/experiments/feedback.sqlite3) or `postgresql://...`."""
    path = sqlite_file(url, experiments_dir / DEFAULT_SQLITE_FILE, "feedback")
    store = SqliteFeedbackStore(path) if path is not None else PostgresFeedbackStore(url)
    store.retention = retention
    return store


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _parse(ts: str) -> datetime:
    """A stored timestamp (or bucket start) as an aware UTC datetime."""
    return datetime.fromisoformat(ts[:19]).replace(tzinfo=UTC)
