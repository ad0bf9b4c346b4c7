"""The in-process analytics queue over a real SQLite store: a close drains everything accepted,
a full queue drops (counted) without making the caller wait, a store down costs counted drops."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from tests.conftest import free_port
from vibeshelf.analytics.backends import open_analytics_store
from vibeshelf.analytics.events import ServedEvent, now
from vibeshelf.analytics.pipeline import start_sink
from vibeshelf.analytics.sink import QueueSink
from vibeshelf.serve.metrics import Metrics
from vibeshelf.settings import Settings


def event(i: int) -> ServedEvent:
    return ServedEvent(f"r{i}", "search", "default", ("b1", "b2"), 3.0, now())


def sink(directory: Path, metrics: Metrics, queue_size: int) -> QueueSink:
    store = open_analytics_store("sqlite://", directory)
    return QueueSink(store.write, metrics, "store", queue_size, batch_size=50, flush_seconds=0.05,
                     release=store.close)


def stored(directory: Path) -> int:
    with sqlite3.connect(directory / "analytics.sqlite3") as db:
        return int(db.execute("SELECT COUNT(*) FROM vibeshelf_analytics_served").fetchone()[0])


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_a_close_writes_every_accepted_event(tmp_path: Path) -> None:
    metrics = Metrics()
    queue = sink(tmp_path, metrics, queue_size=5000)
    assert all(queue.emit(event(i)) for i in range(2000))
    queue.close()
    assert stored(tmp_path) == 2000
    assert sample(metrics, "vibeshelf_analytics_written_total") == 2000
    assert not queue.emit(event(9999))  # closed: refused and counted, never written
    assert sample(metrics, "vibeshelf_analytics_dropped_total", reason="closed") == 1


def test_a_full_queue_drops_without_waiting(tmp_path: Path) -> None:
    metrics = Metrics()
    queue = sink(tmp_path, metrics, queue_size=10)
    blocker = sqlite3.connect(tmp_path / "analytics.sqlite3", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the store's writer waits on this lock
    slowest, accepted = 0.0, 0
    for i in range(300):
        started = time.perf_counter()
        accepted += queue.emit(event(i))
        slowest = max(slowest, time.perf_counter() - started)
    dropped = sample(metrics, "vibeshelf_analytics_dropped_total", reason="full")
    assert dropped == 300 - accepted and 10 <= accepted <= 10 + 50  # the queue plus one batch
    assert slowest < 0.01  # no emit waited on the locked store
    assert sample(metrics, "vibeshelf_analytics_queue_depth") == 10
    blocker.execute("ROLLBACK")
    blocker.close()
    queue.close()
    assert stored(tmp_path) == accepted  # everything accepted was written after all


def test_a_store_down_at_start_up_costs_counted_drops_not_the_server(tmp_path: Path) -> None:
    metrics = Metrics()
    down = f"postgresql://127.0.0.1:{free_port()}/analytics"
    settings = Settings(data_dir=tmp_path, analytics={"store_url": down})
    queue = start_sink(settings, metrics)  # starts although the store cannot be reached
    assert queue.emit(event(1))
    queue.close()
    assert sample(metrics, "vibeshelf_analytics_dropped_total", reason="store") == 1
    assert sample(metrics, "vibeshelf_analytics_written_total") == 0


def test_events_queued_while_a_batch_gathers_join_it_up_to_the_batch_size() -> None:
    batches: list[int] = []
    queue = QueueSink(lambda batch: batches.append(len(batch)), Metrics(), "store", 1000,
                      batch_size=40, flush_seconds=0.2)
    for i in range(100):
        queue.emit(event(i))
    queue.close()  # the stop mark ends the last batch's gathering early
    assert batches == [40, 40, 20]
