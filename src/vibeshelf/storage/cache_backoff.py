"""Redis as a cache, never a dependency: after an error it is left alone for a while."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from vibeshelf.storage.urls import redacted

log = logging.getLogger(__name__)


class CacheObserver(Protocol):
    def cache_lookup(self, layer: str, hits: int, misses: int) -> None: ...

    def cache_error(self, layer: str) -> None: ...


@dataclass(eq=False)
class Backoff:
    """Whether the cache at `url` may be tried now; `failed` logs an error and rests it `seconds`."""

    what: str
    url: str = field(repr=False)  # may hold a password
    seconds: float = 5.0
    observer: CacheObserver | None = None
    layer: str = "redis"
    _down_until: float = field(default=0.0, init=False)

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def failed(self, exc: Exception) -> None:
        log.warning(
            "%s at %s failed (%s: %s); going on without it for %.0fs",
            self.what, redacted(self.url), type(exc).__name__, exc, self.seconds,
        )
        self._down_until = time.monotonic() + self.seconds
        if self.observer is not None:
            self.observer.cache_error(self.layer)
