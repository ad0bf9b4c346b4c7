"""The analytics sink a serving process holds: its queue delivering to the store, or to Celery."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from vibeshelf.analytics.backends import open_analytics_store
from vibeshelf.analytics.events import Event
from vibeshelf.analytics.sink import AnalyticsObserver, QueueSink
from vibeshelf.analytics.store import AnalyticsStore
from vibeshelf.settings import Settings


class OpenedOnUse:
    """The store, opened by the first batch (again by the next one if that fails): a store that
    is down when the server starts costs counted drops, not the server."""

    def __init__(self, opener: Callable[[], AnalyticsStore]) -> None:
        self._open = opener
        self._store: AnalyticsStore | None = None

    def write(self, events: Iterable[Event]) -> int:
        if self._store is None:
            self._store = self._open()
        return self._store.write(events)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def start_sink(settings: Settings, observer: AnalyticsObserver) -> QueueSink:
    """The running sink of `settings.analytics`: batches written to the store by this process,
    or published to Celery for `vibeshelf worker` when `broker_url` is set."""
    options = settings.analytics
    sizes = (options.queue_size, options.batch_size, options.flush_seconds)
    if options.broker_url:
        from vibeshelf.analytics.broker import CeleryPublisher, celery_app

        app = celery_app(settings)
        return QueueSink(CeleryPublisher(app), observer, "broker", *sizes, release=app.close)
    store = OpenedOnUse(lambda: open_analytics_store(
        options.store_url, settings.analytics_dir, options.raw_days
    ))
    return QueueSink(store.write, observer, "store", *sizes, release=store.close)
