"""HEAD answered wherever GET is: the same status and headers, without the body."""

from __future__ import annotations

from starlette.types import Message, Receive, Scope, Send

from vibeshelf.serve.http_middleware import HttpMiddleware


class HeadAsGet(HttpMiddleware):
    """ASGI middleware running a HEAD request as GET and sending its response without the body.

    Add it outside every middleware that rewrites the body (e.g. gzip), so that the headers,
    Content-Length included, are those of the GET response.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
