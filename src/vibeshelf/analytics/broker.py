"""Celery over a Redis broker: the write task `vibeshelf worker` runs, and the batch publisher."""

from __future__ import annotations

from typing import Any

from celery import Celery  # type: ignore[import-untyped]

from vibeshelf.analytics.backends import open_analytics_store
from vibeshelf.analytics.events import Event, decode, encode
from vibeshelf.analytics.store import AnalyticsStore
from vibeshelf.settings import Settings
from vibeshelf.storage.errors import StorageError

WRITE_TASK = "vibeshelf.analytics.write"


def celery_app(settings: Settings) -> Celery:
    """The Celery app on `analytics.broker_url`; its one task writes a batch to the store."""
    options = settings.analytics
    timeout = options.broker_timeout_seconds
    app = Celery("vibeshelf", broker=options.broker_url, set_as_current=False)
    app.conf.update(
        task_serializer="json", accept_content=["json"], task_ignore_result=True,
        task_acks_late=True, worker_hijack_root_logger=False,
        broker_connection_timeout=timeout, broker_connection_retry_on_startup=True,
        broker_transport_options={"socket_connect_timeout": timeout, "socket_timeout": timeout},
    )
    opened: list[AnalyticsStore] = []

    def store() -> AnalyticsStore:
        if not opened:
            opened.append(
                open_analytics_store(options.store_url, settings.analytics_dir, options.raw_days)
            )
        return opened[0]

    @app.task(  # type: ignore[misc]
        name=WRITE_TASK, autoretry_for=(StorageError,), retry_backoff=True, max_retries=8
    )
    def write(events: list[dict[str, Any]]) -> int:
        return store().write([decode(e) for e in events])

    return app


class CeleryPublisher:
    """Sends a batch as one write task; a broker that does not answer within the timeout raises."""

    def __init__(self, app: Celery) -> None:
        self._app = app

    def __call__(self, batch: list[Event]) -> None:
        self._app.send_task(WRITE_TASK, args=[[encode(e) for e in batch]], retry=False)
