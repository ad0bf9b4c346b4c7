"""Every query, its results and latency, appended as JSON lines for later tuning, in a log that
rotates by size: queries.jsonl, then queries.jsonl.1 (newest) to .<keep> (oldest)."""

from __future__ import annotations

import atexit
import fcntl
import logging
import os
import threading
from datetime import UTC, datetime
from io import FileIO
from pathlib import Path
from typing import Any

import orjson

from vibeshelf.search.schemas import SearchParams, SearchResponse

log = logging.getLogger(__name__)
QUERY_LOG = "queries.jsonl"  # under <data_dir>/logs


def rotated(path: Path, n: int) -> Path:
    """The n-th newest rotated file of the log at `path` (n >= 1)."""
    return path.with_name(f"{path.name}.{n}")


def log_files(path: Path) -> list[Path]:
    """The log's files that exist, oldest first: rotated ones, then the one being written."""
    numbered = [
        (int(p.name.rsplit(".", 1)[1]), p)
        for p in path.parent.glob(f"{path.name}.*")
        if p.name.rsplit(".", 1)[1].isdigit()
    ]
    files = [p for _, p in sorted(numbered, reverse=True)]
    return files + [path] if path.exists() else files


def search_entry(
    params: SearchParams, response: SearchResponse, session: str | None = None
) -> dict[str, Any]:
    """The log line of one answered search; `session` is a returning reader's signed session."""
    return {
        "request_id": response.request_id,
        "query": response.query,
        "mode": response.mode,
        "filters": params.model_dump(
            exclude={"q", "limit", "mode", "rerank", "explain"}, exclude_defaults=True
        ),
        "limit": len(response.results),
        "results": [r.book_id for r in response.results],
        "scores": [r.score for r in response.results],
        "latency_ms": response.took_ms,
        "model_version": response.model_version,
        "index_build": response.index_build,
        "session": session,
    }


class QueryLog:
    """An append-only JSON-lines file; safe to share between threads and processes.

    A write only queues its line: a writer thread appends what is queued every `flush_seconds`
    (sooner once `batch_lines` wait), a write per batch (or per eighth of `max_bytes`), so a
    request pays no file system call. `close` (and the interpreter's exit) writes everything queued; a process killed
    outright loses the lines of its last `flush_seconds`. When the file reaches `max_bytes` it
    is renamed to .1 (older ones shift up, the one past `keep` is dropped) and a new one
    started; every process writing it follows.
    """

    def __init__(
        self, path: Path, max_bytes: int = 64 << 20, keep: int = 3, flush_seconds: float = 0.2,
        batch_lines: int = 512,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep
        self.flush_seconds = flush_seconds
        self.batch_lines = batch_lines
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._queued: list[bytes] = []
        self._wake = threading.Event()
        self._closed = False
        self._fh = self._open()
        self._writer = threading.Thread(target=self._run, name="query-log", daemon=True)
        self._writer.start()
        atexit.register(self.close)

    def write(self, entry: dict[str, Any]) -> None:
        line = orjson.dumps({"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), **entry})
        with self._lock:
            if self._closed:
                raise ValueError(f"the query log {self.path} is closed")
            self._queued.append(line + b"\n")
            if len(self._queued) >= self.batch_lines:
                self._wake.set()

    def close(self) -> None:
        """Write every queued line, stop the writer and close the file (once)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._wake.set()
        self._writer.join()
        self._fh.close()
        atexit.unregister(self.close)

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            with self._lock:
                lines, self._queued = self._queued, []
            if lines:
                self._append(lines)
        if self._queued:  # written after the last pass: close() set _closed under the lock
            self._append(self._queued)

    def _append(self, lines: list[bytes]) -> None:
        """Append `lines` in writes of at most an eighth of the size limit, rotating where the
        limit is reached: another process appending meanwhile overshoots it by one write at most."""
        try:
            if self._moved():
                self._reopen()
            room = self.max_bytes - os.fstat(self._fh.fileno()).st_size
            chunk: list[bytes] = []
            size = 0
            for line in lines:
                chunk.append(line)
                size += len(line)
                if size >= min(room, self.max_bytes // 8):
                    room = self._write(b"".join(chunk))
                    chunk, size = [], 0
            if chunk:
                self._write(b"".join(chunk))
        except OSError as exc:
            log.error("query log: %d lines not written to %s: %s", len(lines), self.path, exc)

    def _write(self, data: bytes) -> int:
        """Append `data` whole to the current file; rotate when it reached the limit. The room
        left after it."""
        if self._moved():
            self._reopen()
        view = memoryview(data)
        while view:
            view = view[self._fh.write(view) or 0:]
        size = self._fh.tell()  # O_APPEND: the file's size after this write
        if size >= self.max_bytes:
            self._rotate()
            size = os.fstat(self._fh.fileno()).st_size
        return self.max_bytes - size

    def _open(self) -> FileIO:
        return open(self.path, "ab", buffering=0)  # held open for the process

    def _reopen(self) -> None:
        self._fh.close()
        self._fh = self._open()

    def _moved(self) -> bool:
        """Whether another process rotated the file this one writes."""
        try:
            return os.stat(self.path).st_ino != os.fstat(self._fh.fileno()).st_ino
        except FileNotFoundError:
            return True

    def _rotate(self) -> None:
        with open(self.path.with_name(f"{self.path.name}.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one process rotates; the others follow it
            if not self._moved():
                for n in range(self.keep - 1, 0, -1):
                    if rotated(self.path, n).exists():
                        os.replace(rotated(self.path, n), rotated(self.path, n + 1))
                os.replace(self.path, rotated(self.path, 1))
            self._reopen()
