"""The base of vibeshelf's pure ASGI middleware: HTTP requests to `handle`, other scopes straight on."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(eq=False)
class HttpMiddleware:
    """Wraps `app`; lifespan and websocket scopes pass through untouched, HTTP ones go to `handle`.

    Cheaper than Starlette's BaseHTTPMiddleware: no request or response objects, no task per call.
    """

    app: ASGIApp

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request (scope type "http") through `self.app`."""
        raise NotImplementedError
