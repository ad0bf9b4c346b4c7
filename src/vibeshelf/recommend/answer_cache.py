"""The recommendation cache: answers kept by everything they depend on, in process or in Redis."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cachetools import TTLCache
from pydantic import ValidationError

from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.config.urls import backend_of
from vibeshelf.recommend.schemas import RecommendResponse
from vibeshelf.storage.cache_backoff import Backoff, CacheObserver

KEY_PREFIX = "vibeshelf:recs"


def answer_key(
    model_version: str, user_id: str | None, liked: Sequence[str], history: Sequence[str],
    cutoff: int, pipeline: str, debug: bool,
) -> str:
    """The cache key of one answer: the model version, then a digest of every other input.

    The reader's history is part of it, so a new event changes the key at once on every worker
    and instance: no invalidation message is needed, and no stale answer can be served.
    """
    inputs = json.dumps(
        [user_id, list(liked), list(history), cutoff, pipeline, debug], separators=(",", ":")
    )
    return f"{model_version}:{hashlib.sha256(inputs.encode()).hexdigest()}"


class AnswerCache(Protocol):
    """Answers by key; a lookup that fails is a miss, never an error."""

    layer: str

    def get(self, key: str) -> RecommendResponse | None: ...

    def put(self, key: str, answer: RecommendResponse) -> None: ...

    def close(self) -> None: ...


@dataclass(eq=False)
class MemoryAnswers:
    """A bounded in-process cache (LRU with a time to live), private to this worker. Answers are
    kept as JSON: thousands of live response objects would slow every garbage collection."""

    size: int
    ttl_s: float
    layer: str = "memory"
    _lru: TTLCache[str, bytes] = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self._lru = TTLCache(maxsize=self.size, ttl=self.ttl_s)

    def get(self, key: str) -> RecommendResponse | None:
        with self._lock:
            found = self._lru.get(key)
        return None if found is None else RecommendResponse.model_validate_json(found)

    def put(self, key: str, answer: RecommendResponse) -> None:
        data = answer.model_dump_json().encode()
        with self._lock:
            self._lru[key] = data

    def close(self) -> None:
        with self._lock:
            self._lru.clear()


@dataclass(eq=False)
class RedisAnswers:
    """Answers as JSON in Redis at `vibeshelf:recs:<model version>:<digest>`, shared by every
    worker and instance. After an error Redis is left alone for `backoff_s`: lookups miss, nothing is written."""

    url: str = field(repr=False)  # may hold a password
    ttl_s: int
    timeout_s: float
    backoff_s: float = 5.0
    observer: CacheObserver | None = None
    layer: str = "redis"
    _client: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        import redis  # the `redis` extra, needed only with a Redis URL
        from redis.exceptions import RedisError

        self._errors = (RedisError, OSError)
        self._backoff = Backoff("recommendation cache", self.url, self.backoff_s, self.observer)
        self._client = redis.Redis.from_url(
            self.url, socket_timeout=self.timeout_s, socket_connect_timeout=self.timeout_s
        )

    def get(self, key: str) -> RecommendResponse | None:
        if not self._backoff.available:
            return None
        try:
            found = self._client.get(f"{KEY_PREFIX}:{key}")
        except self._errors as exc:
            self._backoff.failed(exc)
            return None
        if not isinstance(found, bytes):
            return None
        try:
            return RecommendResponse.model_validate_json(found)
        except ValidationError:  # written by another release: made again, and overwritten
            return None

    def put(self, key: str, answer: RecommendResponse) -> None:
        if not self._backoff.available:
            return
        try:
            self._client.set(f"{KEY_PREFIX}:{key}", answer.model_dump_json(), ex=self.ttl_s)
        except self._errors as exc:
            self._backoff.failed(exc)

    def close(self) -> None:
        self._client.close()


def open_answer_cache(
    rec: RecommendSettings, observer: CacheObserver | None = None
) -> AnswerCache | None:
    """The cache `recommend.cache_url` names: memory:// (this worker), redis://... (shared), or
    None when it is empty or `cache_size` is 0."""
    if not rec.cache_url or rec.cache_size == 0:
        return None
    if backend_of(rec.cache_url) == "redis":
        return RedisAnswers(
            rec.cache_url, rec.cache_ttl_s, rec.cache_timeout_ms / 1000, observer=observer
        )
    return MemoryAnswers(rec.cache_size, rec.cache_ttl_s)
