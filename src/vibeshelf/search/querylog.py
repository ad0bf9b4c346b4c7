"""Every query, its results and latency, appended as JSON lines for later tuning, in a log that
rotates by size: queries.jsonl, then queries.jsonl.1 (newest) to .<keep> (oldest)."""

from __future__ import annotations

import fcntl
import os
import threading
from datetime import UTC, datetime
from io import FileIO
from pathlib import Path
from typing import Any

import orjson

from vibeshelf.search.schemas import SearchParams, SearchResponse

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

    When the file reaches `max_bytes` it is renamed to .1 (older ones shift up, the one past
    `keep` is dropped) and a new one started; every process writing it follows.
    """

    def __init__(self, path: Path, max_bytes: int = 64 << 20, keep: int = 3) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._fh = self._open()

    def write(self, entry: dict[str, Any]) -> None:
        line = orjson.dumps({"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), **entry})
        with self._lock:
            if self._moved():
                self._reopen()
            self._fh.write(line + b"\n")
            if self._fh.tell() >= self.max_bytes:  # O_APPEND: the file's size after this line
                self._rotate()

    def close(self) -> None:
        with self._lock:
            self._fh.close()

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
