"""The embedding service over HTTP: a real `serve --only encode` on 127.0.0.1 with an empty data dir."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import jwt
import numpy as np
import pytest

from tests.e2e.encode_server import (
    API_KEY,
    DOTTED_KEY,
    JWT_SECRET,
    LIMITED_ENV,
    LIMITED_KEY,
    LIMITS,
    READ_ONLY_KEY,
    THROTTLED_KEY,
    EncodeServer,
    error,
    timed,
)
from vibeshelf.config.core import ModelSettings
from vibeshelf.embed.encoder import OnnxEncoder, load_encoder

# Sent in many requests, good and bad; the log test checks it never reaches a log line.
SECRET_TEXT = "marmalade zeppelin 7391 quietly"
AUTH = {"X-API-Key": API_KEY}
ENDPOINTS = [("POST", "/v1/encode", {"texts": SECRET_TEXT}),
             ("POST", "/v1/similarity", {"a": SECRET_TEXT, "b": "x"}),
             ("GET", "/v1/models", None)]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Empty: the encode-only service needs no catalog and no index."""
    return tmp_path_factory.mktemp("empty-data")


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[EncodeServer]:
    env = {**LIMITED_ENV, "VIBESHELF_AUTH__JWT_SECRET": JWT_SECRET, "VIBESHELF_LOG_LEVEL": "DEBUG"}
    yield from EncodeServer(data_dir, env).running()


@pytest.fixture(scope="module")
def api(server: EncodeServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> OnnxEncoder:
    return load_encoder(ModelSettings(), tmp_path_factory.mktemp("models"))


def bearer(**claims: object) -> dict[str, str]:
    claims = {"sub": "svc-a", "exp": int(time.time()) + 60, **claims}
    return {"Authorization": f"Bearer {jwt.encode(claims, JWT_SECRET, algorithm='HS256')}"}


def over_the_rate(api: httpx.Client) -> httpx.Response:
    """The throttled key's answer once it has spent its burst (40 texts, 0.5 more a second)."""
    texts = ["throttled text"] * LIMITS.texts
    for _ in range(2):  # the first request may still fit in the burst; the second cannot
        resp = api.post("/v1/encode", json={"texts": texts}, headers={"X-API-Key": THROTTLED_KEY})
    return resp


# One request per error code, each producing that code whatever ran before it.
ERROR_REQUESTS: dict[int, Callable[[httpx.Client], httpx.Response]] = {
    401: lambda api: api.post("/v1/encode", json={"texts": "x"}),
    403: lambda api: api.post(
        "/v1/encode", json={"texts": "x"}, headers={"X-API-Key": READ_ONLY_KEY}
    ),
    404: lambda api: api.post("/v1/encode", json={"texts": "x", "model": "gpt-17"}, headers=AUTH),
    413: lambda api: api.post("/v1/encode", json={"texts": ["x"] * (LIMITS.texts + 1)}, headers=AUTH),
    422: lambda api: api.post(
        "/v1/encode", content=b"{", headers={**AUTH, "Content-Type": "application/json"}
    ),
    429: over_the_rate,
}


def test_encode_only_needs_no_catalog_and_mounts_no_search(api: httpx.Client, data_dir: Path) -> None:
    health = api.get("/health").json()
    assert health["status"] == "ok" and health["model"]["dim"] == 384
    error(api.get("/api/search", params={"q": "x"}), 404)
    assert not (data_dir / "catalog").exists() and not (data_dir / "index").exists()


def test_batch_matches_the_encoder_with_model_facts_and_timings(
    api: httpx.Client, encoder: OnnxEncoder
) -> None:
    texts = ["cozy small-town mystery with a cat", "sprawling family saga", SECRET_TEXT]
    resp = api.post("/v1/encode", json={"texts": texts}, headers=AUTH)
    assert resp.status_code == 200
    body = resp.json()
    assert (body["name"], body["version"], body["dim"]) == (encoder.name, encoder.version, 384)
    assert (body["normalization"], body["encoding_format"], body["count"]) == ("l2", "float", 3)
    np.testing.assert_allclose(np.array(body["vectors"], dtype=np.float32), encoder.encode(texts), atol=1e-5)
    assert resp.headers["X-Process-Time"].endswith("ms")
    timing = resp.headers["Server-Timing"]
    assert "app;dur=" in timing and "encode;dur=" in timing and "cache;dur=" in timing


def test_one_text_and_base64_float32(api: httpx.Client, encoder: OnnxEncoder) -> None:
    text = "funny sci-fi road trip"
    as_float = api.post("/v1/encode", json={"texts": text}, headers=AUTH).json()
    as_b64 = api.post("/v1/encode", json={"texts": [text], "encoding_format": "base64"}, headers=AUTH).json()
    decoded = np.frombuffer(base64.b64decode(as_b64["vectors"][0]), dtype="<f4")
    assert as_b64["encoding_format"] == "base64" and decoded.shape == (384,)
    np.testing.assert_array_equal(decoded, np.array(as_float["vectors"][0], dtype=np.float32))
    np.testing.assert_allclose(decoded, encoder.encode([text])[0], atol=1e-5)


def test_repeated_texts_come_from_the_cache(api: httpx.Client) -> None:
    texts = ["a ghost story at sea, cached", "a heist in 1920s Paris, cached"]
    first = api.post("/v1/encode", json={"texts": texts}, headers=AUTH).json()
    second = api.post("/v1/encode", json={"texts": [*texts, texts[0]]}, headers=AUTH).json()
    assert first["cached"] == 0 and second["cached"] == 2 and second["count"] == 3
    assert second["vectors"][:2] == first["vectors"] and second["vectors"][2] == first["vectors"][0]


def test_models_lists_the_loaded_model(api: httpx.Client, encoder: OnnxEncoder) -> None:
    models = api.get("/v1/models", headers={"X-API-Key": READ_ONLY_KEY}).json()["models"]
    assert models == [{"name": encoder.name, "version": encoder.version, "dim": 384, "normalization": "l2"}]


def test_similarity_is_the_cosine_matrix(api: httpx.Client, encoder: OnnxEncoder) -> None:
    a, b = ["a cat detective", SECRET_TEXT], ["a kitten solves crimes", "rockets to Mars", "x"]
    body = api.post("/v1/similarity", json={"a": a, "b": b}, headers=AUTH).json()
    assert body["metric"] == "cosine"
    scores = np.array(body["scores"])
    assert scores.shape == (2, 3)
    np.testing.assert_allclose(scores, encoder.encode(a) @ encoder.encode(b).T, atol=1e-5)
    assert scores[0, 0] > scores[0, 1]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=[p for _, p, _ in ENDPOINTS])
def test_missing_or_invalid_credentials_are_401(
    api: httpx.Client, method: str, path: str, body: object
) -> None:
    missing = api.request(method, path, json=body)
    assert "missing credentials" in error(missing, 401)
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="vibeshelf"'
    for headers in ({"X-API-Key": API_KEY + "x"}, {"Authorization": "Bearer not-a-key-at-all"},
                    {"Authorization": f"Bearer {LIMITED_KEY[:-1]}"}):
        invalid = api.request(method, path, json=body, headers=headers)
        error(invalid, 401)
        assert 'error="invalid_token"' in invalid.headers["WWW-Authenticate"]


def test_a_key_without_the_encode_scope_is_403(api: httpx.Client) -> None:
    for path, body in (("/v1/encode", {"texts": SECRET_TEXT}), ("/v1/similarity", {"a": "x", "b": "y"})):
        resp = api.post(path, json=body, headers={"X-API-Key": READ_ONLY_KEY})
        assert "'encode' scope" in error(resp, 403)
        assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]


def test_an_api_key_shaped_like_a_jwt_is_still_a_key(api: httpx.Client) -> None:
    as_bearer = {"Authorization": f"Bearer {DOTTED_KEY}"}
    resp = api.post("/v1/encode", json={"texts": "x"}, headers=as_bearer)
    assert resp.status_code == 200, resp.text
    error(api.post("/v1/encode", json={"texts": "x"}, headers={"X-API-Key": DOTTED_KEY + "x"}), 401)


def test_jwt_valid_expired_invalid_and_without_scope(api: httpx.Client) -> None:
    body = {"texts": SECRET_TEXT}
    assert api.post("/v1/encode", json=body, headers=bearer(scope="read encode")).status_code == 200
    assert api.post("/v1/encode", json=body, headers=bearer(scopes=["encode"])).status_code == 200
    expired = bearer(scope="encode", exp=int(time.time()) - 10)
    assert error(api.post("/v1/encode", json=body, headers=expired), 401) == "token expired"
    forged = {"Authorization": "Bearer " + jwt.encode(
        {"sub": "x", "scope": "encode", "exp": int(time.time()) + 60}, "another-secret-" * 3, "HS256")}
    error(api.post("/v1/encode", json=body, headers=forged), 401)
    no_exp = {"Authorization": "Bearer " + jwt.encode({"sub": "x", "scope": "encode"}, JWT_SECRET, "HS256")}
    error(api.post("/v1/encode", json=body, headers=no_exp), 401)
    error(api.post("/v1/encode", json=body, headers=bearer(scope="read")), 403)
    assert api.get("/v1/models", headers=bearer(scope="read")).status_code == 200


def test_body_over_the_limit_is_413_declared_or_chunked(api: httpx.Client) -> None:
    big = json.dumps({"texts": [SECRET_TEXT * 10] * 300}).encode()
    assert len(big) > LIMITS.body
    declared = api.post("/v1/encode", content=big, headers={**AUTH, "Content-Type": "application/json"})
    assert "request body over" in error(declared, 413)
    chunks = (big[i : i + 8192] for i in range(0, len(big), 8192))  # no Content-Length: chunked
    chunked = api.post("/v1/encode", content=chunks, headers={**AUTH, "Content-Type": "application/json"})
    assert "request body over" in error(chunked, 413)


def test_too_many_texts_or_too_long_a_text_is_413(api: httpx.Client) -> None:
    many = api.post("/v1/encode", json={"texts": ["x"] * (LIMITS.texts + 1)}, headers=AUTH)
    assert f"at most {LIMITS.texts} per request" in error(many, 413)
    long = api.post("/v1/encode", json={"texts": ["ok", SECRET_TEXT * 100]}, headers=AUTH)
    assert f"texts[1]: {len(SECRET_TEXT) * 100} characters, at most {LIMITS.chars}" in error(long, 413)
    pair = api.post("/v1/similarity", json={"a": ["x"] * 20, "b": ["y"] * 20}, headers=AUTH)
    assert "40 texts" in error(pair, 413)


@pytest.mark.parametrize(
    "content",
    [
        b"not json at all " + SECRET_TEXT.encode(),
        b"{}",
        b'{"texts": []}',
        b'{"texts": [1, 2]}',
        b'{"texts": "x", "encoding_format": "int8"}',
        json.dumps({"texts": SECRET_TEXT, "surprise": True}).encode(),
        b'{"texts": ["fine", "a lone \\ud800 surrogate"]}',
    ],
    ids=["not-json", "no-texts", "empty-list", "not-strings", "bad-format", "extra-field", "surrogate"],
)
def test_malformed_requests_are_422(api: httpx.Client, content: bytes) -> None:
    resp = api.post("/v1/encode", content=content, headers={**AUTH, "Content-Type": "application/json"})
    description = error(resp, 422)
    assert b"ud800" not in content or "texts.1: Value error, not valid Unicode" in description


def test_unknown_model_is_404(api: httpx.Client) -> None:
    resp = api.post("/v1/encode", json={"texts": "x", "model": "gpt-17"}, headers=AUTH)
    assert "GET /v1/models" in error(resp, 404)


def test_a_key_over_its_rate_gets_429_with_retry_after(api: httpx.Client) -> None:
    texts = [f"rate-limited text {i}" for i in range(LIMITS.texts)]  # burst 40, key rate 0.5/s
    assert api.post("/v1/encode", json={"texts": texts}, headers={"X-API-Key": LIMITED_KEY}).status_code == 200
    limited = api.post("/v1/encode", json={"texts": texts}, headers={"X-API-Key": LIMITED_KEY})
    assert "rate limit exceeded" in error(limited, 429)
    assert int(limited.headers["Retry-After"]) == 48  # (32 - 8 left) / 0.5 per second
    assert api.post("/v1/encode", json={"texts": texts[:4]}, headers=AUTH).status_code == 200


def test_concurrent_callers_each_get_their_own_vector(
    server: EncodeServer, api: httpx.Client, encoder: OnnxEncoder
) -> None:
    texts = [f"concurrent caller {i}: a {['cozy', 'dark', 'funny'][i % 3]} tale of {i * 7} owls" for i in range(96)]
    before = batch_stats(api)

    def call(text: str) -> list[float]:
        resp = api.post("/v1/encode", json={"texts": text}, headers=AUTH)
        assert resp.status_code == 200, resp.text
        return resp.json()["vectors"][0]

    with ThreadPoolExecutor(32) as pool:
        got = np.array(list(pool.map(call, texts)), dtype=np.float32)
    np.testing.assert_allclose(got, encoder.encode(texts), atol=1e-5)
    runs, encoded = (after - prior for after, prior in zip(batch_stats(api), before, strict=True))
    assert encoded == len(texts)
    assert runs < len(texts), "concurrent requests were never encoded together"


def batch_stats(api: httpx.Client) -> tuple[float, float]:
    """(encoder runs, texts encoded) so far, from /metrics."""
    text = api.get("/metrics").text
    count = re.search(r"^vibeshelf_encode_batch_texts_count (\S+)$", text, re.MULTILINE)
    total = re.search(r"^vibeshelf_encode_batch_texts_sum (\S+)$", text, re.MULTILINE)
    assert count and total
    return float(count.group(1)), float(total.group(1))


@pytest.mark.parametrize(
    "code", [*ERROR_REQUESTS, 200], ids=[*map(str, ERROR_REQUESTS), "metrics"]
)
def test_errors_and_metrics_carry_timing_headers(api: httpx.Client, code: int) -> None:
    resp = ERROR_REQUESTS[code](api) if code in ERROR_REQUESTS else api.get("/metrics")
    assert resp.status_code == code, resp.text
    timed(resp)


def test_metrics_count_requests_latency_errors_batches_and_cache(api: httpx.Client) -> None:
    texts = {"texts": "counted in the metrics"}
    for _ in range(2):  # a miss, then a hit
        assert api.post("/v1/encode", json=texts, headers=AUTH).status_code == 200
    for code in (401, 413, 429):
        assert ERROR_REQUESTS[code](api).status_code == code
    resp = api.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    text = resp.text
    for needle in (
        'vibeshelf_http_requests_total{code="200",method="POST",route="/v1/encode"}',
        'vibeshelf_http_requests_total{code="401",method="POST",route="/v1/encode"}',
        'vibeshelf_http_request_duration_seconds_bucket{le="0.1",method="POST",route="/v1/encode"}',
        'vibeshelf_http_errors_total{code="413"}',
        'vibeshelf_http_errors_total{code="429"}',
        "vibeshelf_encode_batch_texts_bucket",
        "vibeshelf_encode_batch_seconds_count",
        'vibeshelf_encode_cache_lookups_total{layer="memory",result="hit"}',
        'vibeshelf_encode_cache_lookups_total{layer="memory",result="miss"}',
    ):
        assert needle in text, needle
    assert SECRET_TEXT not in text


def test_no_log_line_holds_request_text(server: EncodeServer) -> None:
    """Last in this module: stops the server to read all it logged (at DEBUG, log_texts unset)."""
    lines = server.stop()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(records) > 50 and all(line.startswith(("{", "serving on")) for line in lines)
    encoded = [r for r in records if r["msg"].startswith("encoded ")]
    assert encoded and all({"caller", "count", "cached"} <= r.keys() for r in encoded)
    assert not [line for line in lines if "marmalade" in line or "zeppelin" in line]
    assert not [line for line in lines if "concurrent caller" in line or "owls" in line]
