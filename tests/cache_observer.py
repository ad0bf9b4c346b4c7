"""A CacheObserver for tests: counts lookups by (layer, result) and failures by layer."""

from __future__ import annotations

from collections import Counter


class CountingObserver:
    def __init__(self) -> None:
        self.lookups: Counter[tuple[str, str]] = Counter()
        self.errors: Counter[str] = Counter()

    def cache_lookup(self, layer: str, hits: int, misses: int) -> None:
        self.lookups[layer, "hit"] += hits
        self.lookups[layer, "miss"] += misses

    def cache_error(self, layer: str) -> None:
        self.errors[layer] += 1
