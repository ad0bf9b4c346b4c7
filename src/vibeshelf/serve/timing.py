"""Pure ASGI middleware adding X-Process-Time and Server-Timing headers to every response."""

from __future__ import annotations

import time

from starlette.types import Message, Receive, Scope, Send

from vibeshelf.serve.http_middleware import HttpMiddleware


class TimingMiddleware(HttpMiddleware):
    """Times from request start to response start; cheaper than a BaseHTTPMiddleware."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()

        async def send_with_timing(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed_ms = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"x-process-time", f"{elapsed_ms:.2f}ms".encode()))
                headers.append((b"server-timing", f"app;dur={elapsed_ms:.2f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_timing)
