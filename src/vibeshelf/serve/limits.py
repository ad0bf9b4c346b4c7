"""Request limits: body size (413), texts per request and characters per text (413), rate (429)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vibeshelf.settings import Settings


def too_large(description: str) -> HTTPException:
    return HTTPException(413, description)


class BodySizeLimit:
    """ASGI middleware: a request body may not exceed the limit of the longest prefix of its path.

    `limits` maps path prefixes to byte counts (`{"/": 1 << 20, "/v1/": 4 << 20}`); a path under
    none of them is not limited. A declared Content-Length over the limit is refused before any of
    the body is read; a chunked body is counted as it arrives and refused as soon as it passes the
    limit, so no more than the limit is ever held in memory. Either way the 413 is raised where
    the route reads its body, so the route answers it in its own protocol's shape.
    """

    def __init__(self, app: ASGIApp, limits: Mapping[str, int]) -> None:
        self.app = app
        self.limits = sorted(limits.items(), key=lambda item: len(item[0]), reverse=True)

    def max_bytes(self, path: str) -> int | None:
        """The limit for `path`: that of the longest prefix it starts with, or None."""
        return next((limit for prefix, limit in self.limits if path.startswith(prefix)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        max_bytes = self.max_bytes(scope["path"]) if scope["type"] == "http" else None
        if max_bytes is None:
            await self.app(scope, receive, send)
            return
        message = f"request body over {max_bytes} bytes"
        declared = dict(scope["headers"]).get(b"content-length", b"")
        declared_over = declared.isdigit() and int(declared) > max_bytes
        received = 0

        async def counted() -> Message:
            nonlocal received
            if declared_over:
                raise too_large(message)
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > max_bytes:
                    raise too_large(message)
            return event

        await self.app(scope, counted, send)


def check_count(total: int, max_texts: int) -> None:
    """413 when a request holds more than `max_texts` texts."""
    if total > max_texts:
        raise too_large(f"{total} texts, at most {max_texts} per request")


def check_texts(max_texts: int, max_chars: int, **fields: Sequence[str]) -> int:
    """The number of texts in `fields`; 413 when there are more, or longer ones, than allowed."""
    total = sum(len(texts) for texts in fields.values())
    check_count(total, max_texts)
    for name, texts in fields.items():
        for i, text in enumerate(texts):
            if len(text) > max_chars:
                raise too_large(f"{name}[{i}]: {len(text)} characters, at most {max_chars} per text")
    return total


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per caller: `rate` tokens a second up to `burst`; a request costs its texts.

    Buckets of callers not seen for a while are dropped once more than `max_callers` are kept.
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_callers: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.max_callers = max_callers
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def acquire(self, caller: str, cost: int, rate: float | None = None) -> float:
        """0 when `cost` tokens were taken; else the seconds until they would be there."""
        rate = rate or self.rate
        if not rate:
            return 0.0
        now = self._clock()
        bucket = self._buckets.pop(caller, None) or _Bucket(float(self.burst), now)
        self._buckets[caller] = bucket
        if len(self._buckets) > self.max_callers:
            self._buckets.popitem(last=False)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return 0.0
        return (cost - bucket.tokens) / rate

    def check(self, caller: str, cost: int, rate: float | None = None) -> None:
        """429 with Retry-After (whole seconds, rounded up) when the caller is over its rate."""
        wait = self.acquire(caller, cost, rate)
        if wait:
            raise HTTPException(
                429,
                f"rate limit exceeded: retry in {wait:.2f}s",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )


def body_limits(settings: Settings) -> dict[str, int]:
    """Largest request body per path prefix: `serve.max_body_bytes`, and `encode.max_body_bytes` on
    the embedding service's routes (/v1, TEI's /embed)."""
    encode = settings.encode.max_body_bytes
    return {"/": settings.serve.max_body_bytes, "/v1/": encode, "/embed": encode}
