"""The analytics sink a serving process holds: its queue delivering to the store, or to Celery."""

from __future__ import annotations

from vibeshelf.analytics.backends import open_analytics_store
from vibeshelf.analytics.sink import AnalyticsObserver, QueueSink
from vibeshelf.settings import Settings


def start_sink(settings: Settings, observer: AnalyticsObserver) -> QueueSink:
    """The running sink of `settings.analytics`: batches written to the store by this process,
    or published to Celery for `vibeshelf worker` when `broker_url` is set."""
    options = settings.analytics
    sizes = (options.queue_size, options.batch_size, options.flush_seconds)
    if options.broker_url:
        from vibeshelf.analytics.broker import CeleryPublisher, celery_app

        app = celery_app(settings)
        return QueueSink(CeleryPublisher(app), observer, "broker", *sizes, release=app.close)
    store = open_analytics_store(options.store_url, settings.analytics_dir)
    return QueueSink(store.write, observer, "store", *sizes, release=store.close)
