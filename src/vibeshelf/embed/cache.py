"""Vector cache of the embedding service: an in-process LRU in front of an optional Redis."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

import numpy as np
from cachetools import LRUCache

from vibeshelf.storage.cache_backoff import Backoff, CacheObserver

KEY_PREFIX = "vibeshelf:vec"
VECTOR_DTYPE = np.dtype("<f4")


def text_digest(text: str) -> bytes:
    """sha256 of the text's UTF-8 bytes (lone surrogates kept, never an error)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()




@dataclass(eq=False)
class RedisVectors:
    """Vectors in Redis at `vibeshelf:vec:<model version>:<sha256 of text>` as little-endian float32.

    Redis is a cache here, never a dependency: after an error it is left alone for `backoff_s`,
    and meanwhile every lookup is a miss and nothing is written.
    """

    url: str = field(repr=False)  # may hold a password
    model_version: str
    dim: int
    _: KW_ONLY
    ttl_s: int
    timeout_s: float
    backoff_s: float = 5.0
    observer: CacheObserver | None = None
    _client: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        import redis.asyncio as aioredis  # the `redis` extra, needed only with a Redis URL
        from redis.exceptions import RedisError

        self._backoff = Backoff("redis cache", self.url, self.backoff_s, self.observer)
        self._prefix = f"{KEY_PREFIX}:{self.model_version}:"
        self._errors = (RedisError, OSError)
        self._client = aioredis.Redis.from_url(
            self.url, socket_timeout=self.timeout_s, socket_connect_timeout=self.timeout_s
        )

    def key(self, digest: bytes) -> str:
        return self._prefix + digest.hex()

    @property
    def available(self) -> bool:
        return self._backoff.available

    async def ping(self) -> bool:
        try:
            return bool(await self._client.ping())
        except self._errors as exc:
            self._backoff.failed(exc)
            return False

    async def get_many(self, digests: Sequence[bytes]) -> list[np.ndarray | None] | None:
        """Vectors in order (None where missing or unreadable); None when Redis is unavailable."""
        if not self.available:
            return None
        try:
            values = await self._client.mget([self.key(d) for d in digests])
        except self._errors as exc:
            self._backoff.failed(exc)
            return None
        size = self.dim * VECTOR_DTYPE.itemsize
        return [
            np.frombuffer(v, dtype=VECTOR_DTYPE) if isinstance(v, bytes) and len(v) == size else None
            for v in values
        ]

    async def put_many(self, items: Sequence[tuple[bytes, np.ndarray]]) -> None:
        if not items or not self.available:
            return
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for digest, vector in items:
                    data = np.ascontiguousarray(vector, dtype=VECTOR_DTYPE).tobytes()
                    pipe.set(self.key(digest), data, ex=self.ttl_s or None)
                await pipe.execute()
        except self._errors as exc:
            self._backoff.failed(exc)

    async def close(self) -> None:
        await self._client.aclose()


class VectorCache:
    """Looks texts up in the LRU, then in Redis; vectors found in Redis are kept in the LRU too."""

    def __init__(
        self,
        lru_size: int,
        redis: RedisVectors | None = None,
        observer: CacheObserver | None = None,
    ) -> None:
        self.lru: LRUCache[bytes, np.ndarray] = LRUCache(maxsize=lru_size)  # maxsize 0: off
        self.redis = redis
        self._observer = observer

    async def get_many(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among `texts` (distinct texts expected)."""
        found: dict[str, np.ndarray] = {}
        missing: list[tuple[str, bytes]] = []
        for text in texts:
            digest = text_digest(text)
            vector = self.lru.get(digest)
            if vector is None:
                missing.append((text, digest))
            else:
                found[text] = vector
        self._observe("memory", len(found), len(missing))
        if not missing or self.redis is None:
            return found
        vectors = await self.redis.get_many([digest for _, digest in missing])
        if vectors is None:
            return found
        hits = 0
        for (text, digest), vector in zip(missing, vectors, strict=True):
            if vector is not None:
                found[text] = vector
                self._remember(digest, vector)
                hits += 1
        self._observe("redis", hits, len(missing) - hits)
        return found

    async def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        """Keeps freshly encoded vectors in the LRU and in Redis."""
        items = [(text_digest(text), vector.copy()) for text, vector in vectors.items()]
        for digest, vector in items:
            self._remember(digest, vector)
        if self.redis is not None:
            await self.redis.put_many(items)

    def _remember(self, digest: bytes, vector: np.ndarray) -> None:
        if self.lru.maxsize:
            self.lru[digest] = vector

    def _observe(self, layer: str, hits: int, misses: int) -> None:
        if self._observer is not None and (hits or misses):
            self._observer.cache_lookup(layer, hits, misses)

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.close()
