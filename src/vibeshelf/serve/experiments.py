"""The experiment router a serving process holds, loaded once a registry exists, and its updates."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from vibeshelf.analytics.backends import open_analytics_store
from vibeshelf.experiment.feedback.events import Retention
from vibeshelf.experiment.feedback.factory import open_feedback
from vibeshelf.experiment.registry import ModelVersion, RegistryFile
from vibeshelf.experiment.router import ExperimentRouter
from vibeshelf.recommend.service import RecommendService
from vibeshelf.search.service import SearchService
from vibeshelf.serve.metrics import Metrics
from vibeshelf.serve.recommender import load_recommender
from vibeshelf.serve.runtime import Runtime
from vibeshelf.settings import Settings
from vibeshelf.storage.errors import StorageError

log = logging.getLogger(__name__)

LOOK_SECONDS = 1.0  # how often requests may stat the registry file while there is none


def load_experiments(settings: Settings, runtime: Runtime, metrics: Metrics) -> ExperimentRouter | None:
    """The router over <data_dir>/experiments/registry.json, or None (today's serving) without one."""
    registry_file = RegistryFile(settings.experiments_dir)
    if not registry_file.exists():
        return None

    def search_version(version: ModelVersion) -> SearchService:
        if version.target.get("index_build") != runtime.store.manifest.build_id:
            log.warning("search version %s was registered on index build %s; serving build %s",
                        version.name, version.target.get("index_build"), runtime.store.manifest.build_id)
        ranking = {k: v for k, v in version.target.get("ranking", {}).items() if v is not None}
        return runtime.search.with_settings(settings.search.model_copy(update=ranking))

    def recommend_version(version: ModelVersion) -> RecommendService | None:
        return load_recommender(
            settings, runtime.store, str(version.target["recs_version"]), metrics.recommend_cache,
            metrics, version.target.get("pipeline"),
        )

    options = settings.experiment
    retention = Retention(options.served_max_rows, options.served_max_days)
    store = open_feedback(options.feedback_url, settings.experiments_dir, retention)
    rollup = open_analytics_store(settings.analytics.store_url, settings.analytics_dir)
    loaders = {"search": search_version, "recommend": recommend_version}
    return ExperimentRouter(registry_file, store, rollup, settings.experiment, loaders, metrics)


class LiveExperiments:
    """The experiment router once there is a registry: loaded now if there is one, else on the
    first request after one appears (a stat of the file at most every LOOK_SECONDS), once."""

    def __init__(
        self,
        registry_file: RegistryFile,
        load: Callable[[], ExperimentRouter | None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry_file = registry_file
        self._load = load
        self._clock = clock
        self._lock = threading.Lock()
        self._router = load()
        self._next_look = clock() + LOOK_SECONDS

    def settled(self) -> bool:
        """Whether `current()` answers without a look at the disk (routing, or not due to look)."""
        return self._router is not None or self._clock() < self._next_look

    def current(self) -> ExperimentRouter | None:
        """The router, loading it first when a registry has appeared since the last look."""
        if self._router is None and self._clock() >= self._next_look:
            with self._lock:
                if self._router is None and self._clock() >= self._next_look:
                    self._next_look = self._clock() + LOOK_SECONDS
                    if self._registry_file.exists():
                        self._router = self._load()
                        log.info("experiment registry found: routing by it from now on")
        return self._router

    def update(self) -> None:
        """One bandit update of the router (when there is one yet)."""
        router = self.current()
        if router is not None:
            router.update()

    def close(self) -> None:
        if self._router is not None:
            self._router.close()


@asynccontextmanager
async def periodic_updates(update: Callable[[], object], seconds: float) -> AsyncIterator[None]:
    """Every `seconds` (when > 0), in a thread, for as long as the app runs: `update()`."""
    if seconds <= 0:
        yield
        return

    async def loop() -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await asyncio.to_thread(update)
            except (StorageError, OSError, ValueError) as exc:
                log.error("experiment update failed: %s", exc)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
