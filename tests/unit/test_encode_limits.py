"""Request limits of the embedding service: texts and characters per request, the token bucket."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from vibeshelf.config.encode import EncodeSettings
from vibeshelf.serve.limits import RateLimiter, check_texts


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_check_texts_counts_all_fields_and_measures_each_text() -> None:
    assert check_texts(3, 5, a=["x", "yy"], b=["zzz"]) == 3
    with pytest.raises(HTTPException, match="4 texts, at most 3") as info:
        check_texts(3, 5, a=["x", "y"], b=["z", "w"])
    assert info.value.status_code == 413
    with pytest.raises(HTTPException, match=r"b\[1\]: 6 characters, at most 5") as info:
        check_texts(3, 5, a=["x"], b=["z", "abcdef"])
    assert info.value.status_code == 413


def test_token_bucket_refills_at_its_rate_up_to_the_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=10, burst=20, clock=clock)
    assert limiter.acquire("k", 15) == 0
    assert limiter.acquire("k", 10) == pytest.approx(0.5)  # 5 left, 5 more in 0.5 s
    clock.now += 0.5
    assert limiter.acquire("k", 10) == 0
    clock.now += 60
    assert limiter.acquire("k", 20) == 0  # refilled to the burst, not beyond
    assert limiter.acquire("k", 1) == pytest.approx(0.1)
    assert limiter.acquire("other", 20) == 0  # one bucket per caller


def test_per_caller_rate_and_disabled_limit() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=10, burst=4, clock=clock)
    assert limiter.acquire("slow", 4, rate=0.5) == 0
    assert limiter.acquire("slow", 1, rate=0.5) == pytest.approx(2.0)
    assert RateLimiter(rate=0, burst=1).acquire("k", 10**6) == 0


def test_429_carries_retry_after_in_whole_seconds() -> None:
    limiter = RateLimiter(rate=0.25, burst=1, clock=Clock())
    limiter.check("k", 1)
    with pytest.raises(HTTPException) as info:
        limiter.check("k", 1)
    assert info.value.status_code == 429
    assert info.value.headers == {"Retry-After": "4"}


def test_forgets_the_least_recent_callers_beyond_the_cap() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1, burst=2, max_callers=2, clock=clock)
    limiter.acquire("a", 2)
    limiter.acquire("b", 2)
    limiter.acquire("c", 2)  # drops "a", whose bucket starts full again
    assert limiter.acquire("a", 2) == 0


def test_burst_must_admit_a_full_request() -> None:
    with pytest.raises(ValidationError, match="rate_limit_burst"):
        EncodeSettings(max_texts=300, rate_limit_burst=100)
    EncodeSettings(max_texts=300, rate_limit_burst=100, rate_limit_per_s=0)


def test_redis_url_scheme_is_checked() -> None:
    with pytest.raises(ValidationError, match="redis_url"):
        EncodeSettings(redis_url="http://127.0.0.1:6379")
    assert EncodeSettings(redis_url="").redis_url is None
