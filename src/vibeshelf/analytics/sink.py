"""The bounded queue a request hands its events to, and the thread delivering them in batches."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Protocol

from vibeshelf.analytics.events import Event

log = logging.getLogger(__name__)

Deliver = Callable[[list[Event]], object]
_STOP = object()
POLLS_PER_FLUSH = 8  # how often the writer looks for more events while it gathers a batch


class AnalyticsObserver(Protocol):
    def analytics_dropped(self, reason: str, events: int) -> None: ...

    def analytics_written(self, events: int) -> None: ...

    def analytics_depth(self, depth: int) -> None: ...


class QueueSink:
    """Events queued (at most `queue_size`) and handed to `deliver` by one background thread, in
    batches of up to `batch_size` gathered for at most `flush_seconds` after the first.

    `deliver` writes to the store or publishes to the broker; when it raises, the batch is
    dropped and counted under `failure`. `close` delivers everything accepted, stops, and calls
    `release` (closing the store or the broker connection).
    """

    def __init__(
        self, deliver: Deliver, observer: AnalyticsObserver, failure: str, queue_size: int,
        batch_size: int, flush_seconds: float, release: Callable[[], None] = lambda: None,
    ) -> None:
        self._deliver = deliver
        self._release = release
        self._observer = observer
        self._failure = failure
        self._queue: queue.Queue[object] = queue.Queue(queue_size)
        self._batch_size = batch_size
        self._flush_seconds = flush_seconds
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="analytics-writer", daemon=True)
        self._thread.start()

    def emit(self, event: Event) -> bool:
        """Queue `event` without waiting; False (and a counted drop) when full or closed."""
        if self._closed:
            self._observer.analytics_dropped("closed", 1)
            return False
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self._observer.analytics_dropped("full", 1)
            return False
        self._observer.analytics_depth(self._queue.qsize())
        return True

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._gather()
            if batch:
                self._send(batch)

    def _gather(self) -> tuple[list[Event], bool]:
        """The next batch, and whether the stop mark came with it. After the first event the
        thread polls a few times per flush instead of waiting on the queue, so that a request
        queueing an event does not wake it (a thread switch per event)."""
        first = self._queue.get()
        if first is _STOP:
            return [], True
        batch: list[Event] = [first]  # type: ignore[list-item]
        deadline = time.monotonic() + self._flush_seconds
        while True:
            stopping = self._drain(batch)
            left = deadline - time.monotonic()
            if stopping or len(batch) >= self._batch_size or left <= 0:
                return batch, stopping
            time.sleep(min(left, self._flush_seconds / POLLS_PER_FLUSH))

    def _drain(self, batch: list[Event]) -> bool:
        """Move queued events into `batch` up to the batch size; whether the stop mark came."""
        while len(batch) < self._batch_size:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is _STOP:
                return True
            batch.append(item)  # type: ignore[arg-type]
        return False

    def _send(self, batch: list[Event]) -> None:
        try:
            self._deliver(batch)
        except Exception as exc:  # noqa: BLE001 - no failure may end the writer (close waits on it)
            log.error("analytics: %d events dropped (%s): %s", len(batch), self._failure, exc)
            self._observer.analytics_dropped(self._failure, len(batch))
        else:
            self._observer.analytics_written(len(batch))
        self._observer.analytics_depth(self._queue.qsize())

    def close(self) -> None:
        """Refuse new events, deliver every queued one, and stop the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)  # waits for room: the writer is emptying the queue
        self._thread.join()
        self._release()
