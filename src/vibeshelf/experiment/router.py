"""Per request: pick the version of a surface by the reader's bucket, and record what served it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from vibeshelf.analytics.store import AnalyticsStore
from vibeshelf.config.experiment import ExperimentSettings
from vibeshelf.experiment.bandit import update_weights
from vibeshelf.experiment.feedback.events import Feedback, Served
from vibeshelf.experiment.feedback.store import FeedbackStore
from vibeshelf.experiment.registry import ModelVersion, RegistryFile
from vibeshelf.experiment.split import bucket, choose

log = logging.getLogger(__name__)

Loader = Callable[[ModelVersion], Any]


class VersionMetrics(Protocol):
    def version_served(self, surface: str, version: str, results: int, seconds: float) -> None: ...

    def version_clicked(self, surface: str, version: str) -> None: ...

    def version_weights(self, surface: str, weights: Mapping[str, float]) -> None: ...


@dataclass(eq=False)
class ExperimentRouter:
    """The registry's active versions, each loaded once in this worker and reloaded on change.

    `loaders[surface]` builds a version's service (None when it cannot be served); the registry
    file is re-read when it changes on disk, so `vibeshelf models`/`experiments` reach running
    workers without a restart. A retired version is dropped at once and never chosen again.
    `store` guards feedback (what was served to which session); `rollup` holds the counts.
    """

    registry_file: RegistryFile
    store: FeedbackStore
    rollup: AnalyticsStore
    settings: ExperimentSettings
    loaders: Mapping[str, Loader]
    metrics: VersionMetrics
    _services: dict[str, Any] = field(default_factory=dict, init=False)
    _weights: dict[str, dict[str, float]] = field(default_factory=dict, init=False)
    _stamp: int = field(default=-1, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.settings.seed)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the registry if it changed; load new active versions, close retired ones."""
        stamp = self.registry_file.stamp()
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            registry = self.registry_file.read()
            weights: dict[str, dict[str, float]] = {}
            for surface, loader in self.loaders.items():
                for version in registry.of(surface):
                    if version.name not in self._services:
                        self._services[version.name] = loader(version)
                        log.info("loaded %s version %s", surface, version.name)
                    if self._services[version.name] is not None:
                        weights.setdefault(surface, {})[version.name] = version.weight
            for version in registry.versions:
                if version.status == "retired" and version.name in self._services:
                    _close(self._services.pop(version.name))
            for surface in self.loaders:  # retired and registered versions at 0
                self.metrics.version_weights(
                    surface, {v.name: v.weight for v in registry.of(surface, status=None)}
                )
            self._weights, self._stamp = weights, stamp

    def serves(self, surface: str) -> bool:
        self.refresh()
        return bool(self._weights.get(surface))

    def pick(self, surface: str, unit_id: str) -> tuple[str, Any]:
        """The version this reader gets, and its service."""
        self.refresh()
        name = choose(self._weights[surface], bucket(self.settings.salt, surface, unit_id))
        return name, self._services[name]

    def served(
        self, surface: str, version: str, request_id: str, results: int, seconds: float,
        session: str,
    ) -> None:
        """Record a request served to `session` (before its reply leaves) for its feedback."""
        self.store.record_served(request_id, surface, version, results, session)
        self.metrics.version_served(surface, version, results, seconds)

    def feedback(self, feedback: Feedback, session: str) -> Served:
        """Store feedback from `session` on a request served to it, within the hourly bound."""
        served = self.store.add(feedback, session, self.settings.max_feedback_per_hour)
        if feedback.event == "click":
            self.metrics.version_clicked(served.surface, served.version)
        return served

    def versions(self) -> list[dict[str, Any]]:
        """Every version not retired, with what it serves (`target`) and whether it loaded here."""
        self.refresh()
        return [
            {
                "name": v.name, "surface": v.surface, "status": v.status, "weight": v.weight,
                "target": v.target, "loaded": self._services.get(v.name) is not None,
            }
            for v in self.registry_file.read().versions
            if v.status != "retired"
        ]

    def update(self) -> dict[str, dict[str, float]]:
        """One bandit update from the analytics rollup (the periodic task's body)."""
        with self._lock:
            return update_weights(self.registry_file, self.rollup, self.settings, self._rng)

    def timed(self, surface: str, unit_id: str, call: Callable[[Any], Any]) -> tuple[str, Any, float]:
        """Pick a version, run `call(service)`, and return the version, the result and seconds."""
        name, service = self.pick(surface, unit_id)
        started = time.perf_counter()
        result = call(service)
        return name, result, time.perf_counter() - started

    def close(self) -> None:
        for service in self._services.values():
            _close(service)
        self._services.clear()
        self.store.close()
        self.rollup.close()


def _close(service: Any) -> None:
    close = getattr(service, "close", None)
    if close is not None:
        close()
