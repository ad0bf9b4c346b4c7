"""The embedding service: cached vectors first, the rest encoded in shared micro-batches."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from vibeshelf.config.encode import EncodeSettings
from vibeshelf.embed.batcher import BatchObserver, MicroBatcher
from vibeshelf.embed.cache import RedisVectors, VectorCache
from vibeshelf.embed.encoder import Encoder
from vibeshelf.storage.cache_backoff import CacheObserver
from vibeshelf.storage.urls import redacted

log = logging.getLogger(__name__)


class ServiceObserver(BatchObserver, CacheObserver, Protocol):
    """What the service reports to: batch sizes and times, cache hits, misses and errors."""


@runtime_checkable
class SpreadingEncoder(Encoder, Protocol):
    """An encoder that can spread the runs of one `encode` call over several threads."""

    def spread(self, streams: int) -> Encoder: ...


@dataclass(frozen=True)
class Encoded:
    """Vectors (n, dim) float32 in input order, how many came from the cache, and the time spent."""

    vectors: np.ndarray
    cached: int
    cache_s: float
    encode_s: float


class EmbeddingService:
    """Encodes texts for many concurrent callers with one encoder."""

    def __init__(
        self, encoder: Encoder, settings: EncodeSettings, observer: ServiceObserver | None = None
    ) -> None:
        self.encoder = encoder
        redis = (
            RedisVectors(
                settings.redis_url,
                encoder.version,
                encoder.dim,
                ttl_s=settings.redis_ttl_s,
                timeout_s=settings.redis_timeout_ms / 1000,
                observer=observer,
            )
            if settings.redis_url
            else None
        )
        self.cache = VectorCache(settings.cache_size, redis, observer)
        # A batch's runs spread over `workers` threads: the int8 model runs one text per call, so
        # a batch on one thread would keep one core busy while the other waits for the next batch.
        runs = encoder.spread(settings.workers) if isinstance(encoder, SpreadingEncoder) else encoder
        self.batcher = MicroBatcher(
            runs.encode,
            max_texts=settings.batch_max_texts,
            max_wait_s=settings.batch_wait_ms / 1000,
            workers=settings.workers,
            max_queued=settings.max_queued_texts,
            observer=observer,
        )

    async def start(self) -> None:
        await self.batcher.start()
        redis = self.cache.redis
        if redis is not None:
            state = "reachable" if await redis.ping() else "NOT reachable (serving without it)"
            log.info("redis vector cache at %s is %s", redacted(redis.url), state)

    async def close(self) -> None:
        await self.batcher.close()
        await self.cache.close()

    async def encode(self, texts: Sequence[str]) -> Encoded:
        """Vectors for `texts`; repeated and cached texts are encoded once or not at all."""
        started = time.perf_counter()
        distinct = list(dict.fromkeys(texts))
        found = await self.cache.get_many(distinct)
        looked_up = time.perf_counter()
        missing = [text for text in distinct if text not in found]
        if missing:
            fresh = dict(zip(missing, await self.batcher.encode(missing), strict=True))
            await self.cache.put_many(fresh)
            found.update(fresh)
        encoded = time.perf_counter()
        vectors = np.empty((len(texts), self.encoder.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            vectors[row] = found[text]
        return Encoded(
            vectors, len(distinct) - len(missing), looked_up - started, encoded - looked_up
        )
