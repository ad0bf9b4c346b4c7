"""End to end: a request doing slow blocking work does not hold up the server's other requests.

The app is built by its factory around the sample's real Runtime, whose vector store answers
nearest-neighbour queries 2 s late, and served by uvicorn on 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn

from tests.conftest import SERVER_API_KEY, free_port
from vibeshelf.index.base import VectorStore
from vibeshelf.serve.app import create_app
from vibeshelf.serve.runtime import Runtime
from vibeshelf.settings import Settings

DELAY_S = 2.0


class SlowKnn:
    """The served vector store, with every nearest-neighbour query `DELAY_S` late."""

    def __init__(self, store: VectorStore) -> None:
        self._store = store

    def knn(self, vector: np.ndarray, k: int, *args: Any, **kwargs: Any) -> Any:
        time.sleep(DELAY_S)
        return self._store.knn(vector, k, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.fixture(scope="module")
def slow_server(sample_data_dir: Path) -> Iterator[str]:
    settings = Settings(data_dir=sample_data_dir, auth={"enabled": False})
    loaded = Runtime.load(settings)
    runtime = dataclasses.replace(loaded, store=SlowKnn(loaded.store))  # type: ignore[arg-type]
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, runtime), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
            time.sleep(0.1)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def test_a_slow_similar_query_does_not_stall_health(slow_server: str) -> None:
    key = {"X-API-Key": SERVER_API_KEY}  # for a server that wants a trusted caller here
    popular = httpx.post(
        f"{slow_server}/api/recommend", json={"user_id": "nobody", "cutoff": 1}, headers=key
    )
    book = popular.json()["recommendations"][0]["book_id"]
    answers: dict[str, httpx.Response] = {}

    def similar() -> None:
        answers["similar"] = httpx.get(f"{slow_server}/api/books/{book}/similar", timeout=30)

    started = time.monotonic()
    slow = threading.Thread(target=similar)
    slow.start()
    time.sleep(0.3)  # the similar query is now inside the store
    health_started = time.monotonic()
    assert httpx.get(f"{slow_server}/health", timeout=30).status_code == 200
    health_seconds = time.monotonic() - health_started
    slow.join(timeout=30)
    assert answers["similar"].status_code == 200
    assert time.monotonic() - started >= DELAY_S  # the slow query really was slow
    assert health_seconds < DELAY_S / 4, f"/health took {health_seconds:.2f}s behind the query"
