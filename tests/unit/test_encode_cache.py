"""The vector cache: LRU eviction, and Redis against a real Valkey server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator

import numpy as np
import pytest
import redis

from tests.cache_observer import CountingObserver
from tests.conftest import free_port
from tests.redis_server import redis_server
from vibeshelf.embed.cache import RedisVectors, VectorCache, text_digest

VERSION = "test-model/int8/abc"
DIM = 8


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("valkey")) as url:
        yield url


def vec(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)


def test_lru_keeps_the_most_recently_used() -> None:
    async def scenario(size: int) -> list[set[str]]:
        cache = VectorCache(size)
        await cache.put_many({"a": vec(1), "b": vec(2)})
        seen = [set(await cache.get_many(["a"]))]  # "a" is now the most recent
        await cache.put_many({"c": vec(3)})
        return [*seen, set(await cache.get_many(["a", "b", "c"]))]

    assert asyncio.run(scenario(2)) == [{"a"}, {"a", "c"}]
    assert asyncio.run(scenario(0)) == [set(), set()]


def test_digest_is_sha256_of_utf8_and_survives_lone_surrogates() -> None:
    assert text_digest("héllo") == hashlib.sha256("héllo".encode()).digest()
    assert len(text_digest("\ud800")) == 32



def test_redis_holds_float32_bytes_under_model_version_and_text_sha(redis_url: str) -> None:
    seen = CountingObserver()

    async def scenario() -> dict[str, np.ndarray]:
        store = RedisVectors(redis_url, VERSION, DIM, ttl_s=600, timeout_s=1, observer=seen)
        writer = VectorCache(0, store, seen)
        await writer.put_many({"cozy mystery": vec(1), "grim saga": vec(2)})
        reader = VectorCache(10, RedisVectors(redis_url, VERSION, DIM, ttl_s=600, timeout_s=1), seen)
        found = await reader.get_many(["cozy mystery", "grim saga", "never seen"])
        again = await reader.get_many(["cozy mystery"])  # now from the reader's LRU
        assert set(again) == {"cozy mystery"}
        await writer.close()
        await reader.close()
        return found

    found = asyncio.run(scenario())
    assert set(found) == {"cozy mystery", "grim saga"}
    np.testing.assert_array_equal(found["cozy mystery"], vec(1))
    key = f"vibeshelf:vec:{VERSION}:{hashlib.sha256(b'cozy mystery').hexdigest()}"
    with redis.Redis.from_url(redis_url) as client:
        assert client.get(key) == vec(1).astype("<f4").tobytes()
        assert 0 < client.ttl(key) <= 600
    assert seen.lookups["redis", "hit"] == 2 and seen.lookups["redis", "miss"] == 1
    assert seen.lookups["memory", "hit"] == 1
    assert not seen.errors


def test_another_model_version_never_sees_these_vectors(redis_url: str) -> None:
    async def scenario() -> dict[str, np.ndarray]:
        await VectorCache(0, RedisVectors(redis_url, VERSION, DIM, ttl_s=0, timeout_s=1)).put_many(
            {"shared text": vec(3)}
        )
        other = VectorCache(0, RedisVectors(redis_url, "other/fp32/1", DIM, ttl_s=0, timeout_s=1))
        return await other.get_many(["shared text"])

    assert asyncio.run(scenario()) == {}


def test_a_dead_redis_is_a_miss_not_an_error() -> None:
    seen = CountingObserver()
    dead = f"redis://127.0.0.1:{free_port()}/0"

    async def scenario() -> dict[str, np.ndarray]:
        store = RedisVectors(dead, VERSION, DIM, ttl_s=0, timeout_s=0.2, observer=seen)
        cache = VectorCache(10, store, seen)
        assert not await store.ping()
        await cache.put_many({"kept in memory": vec(4)})
        found = await cache.get_many(["kept in memory", "unknown"])
        await cache.close()
        return found

    assert set(asyncio.run(scenario())) == {"kept in memory"}
    assert seen.errors["redis"] == 1  # then left alone for the back-off instead of failing again
