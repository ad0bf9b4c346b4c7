"""Analytics through the HTTP app: served searches and recommendations land in the store with
their items and positions; SIGTERM to gunicorn drains the queues; in Celery mode a real
`vibeshelf worker` on a real Valkey broker writes them; a broker that is down costs counted
drops, never a reply."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import VIBESHELF, Server, free_port, run_cli
from tests.e2e.test_experiments import wait_for
from tests.processes import stop_process
from tests.redis_server import redis_server
from vibeshelf.serve.app import create_app
from vibeshelf.settings import Settings

QUERY = {"q": "cozy village mystery"}


@pytest.fixture(scope="module")
def data_dir(sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample with a small recommender trained on its interactions."""
    data_dir = tmp_path_factory.mktemp("analytics") / "data"
    shutil.copytree(sample_data_dir, data_dir, ignore=shutil.ignore_patterns("logs"))
    run_cli("train", "recs", "--seed", "7", "--factors", "16", "--no-eval", data_dir=data_dir)
    return data_dir


def settings(data_dir: Path, **analytics: Any) -> Settings:
    return Settings(data_dir=data_dir, auth={"enabled": False}, analytics=analytics)


def stored_items(data_dir: Path, request_id: str) -> list[tuple[int, str]]:
    """(position, book id) of a served list in the default SQLite store, in order."""
    with sqlite3.connect(data_dir / "analytics" / "analytics.sqlite3") as db:
        rows = db.execute("SELECT position, book_id FROM vibeshelf_analytics_items "
                          "WHERE request_id = ? ORDER BY position", (request_id,)).fetchall()
    return [(int(p), str(b)) for p, b in rows]


def served_lists(client: TestClient) -> dict[str, list[tuple[int, str]]]:
    """A search and a recommendation: request id -> (position, book id) served."""
    found = client.get("/api/search", params=QUERY)
    assert found.status_code == 200
    liked = [r["book_id"] for r in found.json()["results"][:3]]
    recommended = client.post("/api/recommend", json={"liked": liked, "cutoff": 5})
    assert recommended.status_code == 200
    lists = {found.json()["request_id"]: [r["book_id"] for r in found.json()["results"]],
             recommended.json()["request_id"]: [
                 r["book_id"] for r in recommended.json()["recommendations"]]}
    assert all(lists.values())
    return {rid: list(enumerate(books, 1)) for rid, books in lists.items()}


def test_served_searches_and_recommendations_land_in_the_store(data_dir: Path) -> None:
    with TestClient(create_app(settings(data_dir))) as client:
        lists = served_lists(client)
    # The app's shutdown drained the queue: everything served is in the store.
    for request_id, items in lists.items():
        assert stored_items(data_dir, request_id) == items
    with sqlite3.connect(data_dir / "analytics" / "analytics.sqlite3") as db:
        surfaces = dict(db.execute(
            "SELECT surface, MIN(latency_ms) FROM vibeshelf_analytics_served "
            "WHERE request_id IN (?, ?) GROUP BY surface", tuple(lists)).fetchall())
    assert set(surfaces) == {"search", "recommend"} and min(surfaces.values()) > 0


def test_a_celery_worker_writes_what_the_app_publishes(data_dir: Path, tmp_path: Path) -> None:
    with redis_server(tmp_path) as broker:
        env = {**os.environ, "VIBESHELF_DATA_DIR": str(data_dir),
               "VIBESHELF_ANALYTICS__BROKER_URL": broker}
        worker = subprocess.Popen([*VIBESHELF, "worker", "--loglevel", "WARNING"], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            with TestClient(create_app(settings(data_dir, broker_url=broker))) as client:
                lists = served_lists(client)
            landed = wait_for(lambda: all(
                stored_items(data_dir, rid) == items for rid, items in lists.items()), timeout=30)
            assert landed, worker.stdout.read() if worker.poll() is not None else "not written"
        finally:
            stop_process(worker)


def test_a_broker_outage_is_a_counted_drop_not_an_error(data_dir: Path) -> None:
    down = f"redis://127.0.0.1:{free_port()}/0"
    drops = 'vibeshelf_analytics_dropped_total{reason="broker"}'

    def dropped(client: TestClient) -> float:
        for line in client.get("/metrics").text.splitlines():
            if line.startswith(drops):
                return float(line.split()[-1])
        return 0.0

    with TestClient(create_app(settings(data_dir, broker_url=down))) as client:
        started = time.perf_counter()
        assert client.get("/api/search", params=QUERY).status_code == 200
        assert time.perf_counter() - started < 5
        assert wait_for(lambda: dropped(client) >= 1, timeout=15)


def test_sigterm_to_gunicorn_drains_every_worker_queue(data_dir: Path) -> None:
    """Events held in the queues (a batch gathers for 60 s here) are written when gunicorn's
    workers exit on SIGTERM, before the processes end."""
    env = {"VIBESHELF_ANALYTICS__FLUSH_SECONDS": "60", "VIBESHELF_ANALYTICS__BATCH_SIZE": "100000",
           "VIBESHELF_AUTH__API_KEYS": "{}"}  # searches need none
    server = Server(data_dir, free_port(), env=env, cli_args=("--workers", "2", "--no-auth"))
    try:
        server.wait_ready()
        ids = [httpx.get(f"{server.url}/api/search", params=QUERY, timeout=30).json()["request_id"]
               for _ in range(20)]
        assert not any(stored_items(data_dir, rid) for rid in ids)  # still queued
    finally:
        server.stop()
    assert all(stored_items(data_dir, rid) for rid in ids)
