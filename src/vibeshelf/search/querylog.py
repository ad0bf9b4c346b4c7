"""Every query, its results and latency, appended as JSON lines for later tuning."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

QUERY_LOG = "queries.jsonl"  # under <data_dir>/logs


class QueryLog:
    """An append-only JSON-lines file; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._fh = open(path, "ab", buffering=0)  # noqa: SIM115 - held open for the process

    def write(self, entry: dict[str, Any]) -> None:
        line = orjson.dumps({"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), **entry})
        with self._lock:
            self._fh.write(line + b"\n")

    def close(self) -> None:
        with self._lock:
            self._fh.close()
