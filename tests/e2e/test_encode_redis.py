"""The encode service with a real Valkey as its shared cache, `--no-auth` on loopback, texts logged."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import redis

from tests.e2e.encode_server import EncodeServer
from tests.redis_server import redis_server

TEXT = "lighthouse keeper falls for a selkie"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("valkey")) as url:
        yield url


def start(tmp_path: Path, redis_url: str) -> EncodeServer:
    """No in-process LRU, so every repeat must come from Redis; request texts logged on purpose."""
    return EncodeServer(tmp_path, {
        "VIBESHELF_ENCODE__REDIS_URL": redis_url,
        "VIBESHELF_ENCODE__CACHE_SIZE": "0",
        "VIBESHELF_ENCODE__LOG_TEXTS": "true",
    }, "--no-auth").wait_ready()


def redis_hits(url: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    found = re.search(r'^vibeshelf_encode_cache_lookups_total\{layer="redis",result="hit"\} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_vectors_are_shared_through_redis_across_restarts(tmp_path: Path, redis_url: str) -> None:
    first = start(tmp_path, redis_url)
    try:
        # --no-auth: no credentials needed on loopback
        resp = httpx.post(f"{first.url}/v1/encode", json={"texts": [TEXT, "another text"]})
        assert resp.status_code == 200 and resp.json()["cached"] == 0
        vector = np.array(resp.json()["vectors"][0], dtype=np.float32)
        again = httpx.post(f"{first.url}/v1/encode", json={"texts": TEXT}).json()
        assert again["cached"] == 1 and redis_hits(first.url) == 1
    finally:
        lines = first.stop()
    version = resp.json()["version"]
    key = f"vibeshelf:vec:{version}:{hashlib.sha256(TEXT.encode()).hexdigest()}"
    with redis.Redis.from_url(redis_url) as client:
        np.testing.assert_array_equal(np.frombuffer(client.get(key), dtype="<f4"), vector)
    # log_texts = true: the text is logged (so the default-off test would notice a leak)
    logged = [json.loads(line) for line in lines if line.startswith("{") and TEXT in line]
    assert logged and logged[0]["texts"] == [TEXT, "another text"]

    second = start(tmp_path, redis_url)  # a fresh process: its vector comes from Redis
    try:
        body = httpx.post(f"{second.url}/v1/encode", json={"texts": TEXT}).json()
        assert body["cached"] == 1 and redis_hits(second.url) == 1
        np.testing.assert_array_equal(np.array(body["vectors"][0], dtype=np.float32), vector)
    finally:
        second.stop()
