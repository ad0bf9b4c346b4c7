"""Errors leave as JSON {code, name, description}, or as an HTML page on a person's page path; no
stack trace reaches a client."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from vibeshelf.search.query import QueryError
from vibeshelf.serve.http_middleware import HttpMiddleware
from vibeshelf.serve.templating import templates
from vibeshelf.storage.errors import StoreError

log = logging.getLogger(__name__)
# First path segments whose errors stay JSON whoever asks: the APIs, ops and the docs.
MACHINE_ROOTS = frozenset(
    {"api", "v1", "embed", "info", "health", "metrics", "openapi.json", "docs", "redoc", "static"}
)


class ErrorBody(BaseModel):
    """The body of every error response."""

    code: int = Field(description="The HTTP status code")
    name: str = Field(description="The status's name, e.g. 'Not Found'")
    description: str = Field(description="What went wrong, for a person to read")


def error_response(
    code: int, description: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(code=code, name=HTTPStatus(code).phrase, description=description)
    return JSONResponse(body.model_dump(), status_code=code, headers=headers)


def wants_page(request: Request) -> bool:
    """True for the pages (/, /books/..., /experiments) and for any other path but a machine one
    that a browser asks for (Accept: text/html)."""
    path = request.url.path
    if path in ("/", "/experiments") or path.startswith("/books/"):
        return True
    root = path.lstrip("/").split("/", 1)[0]
    return root not in MACHINE_ROOTS and "text/html" in request.headers.get("accept", "")


def error_page(request: Request, code: int, description: str) -> HTMLResponse:
    """The error as a page in the site's layout, with a way back to search."""
    name = HTTPStatus(code).phrase
    if code == 404 and description == name:  # no route: say so in words
        description = "There is no page at this address."
    context = {"code": code, "name": name, "description": description}
    return templates.TemplateResponse(request, "error.html", context, status_code=code)


def client_error(
    request: Request,
    code: int,
    description: str,
    headers: Mapping[str, str] | None = None,
    pages: bool = False,
) -> HTMLResponse | JSONResponse:
    """An error page for a person on a page path of an app that serves `pages`, else the JSON
    error body."""
    if pages and wants_page(request):
        page = error_page(request, code, description)
        page.headers.update(headers or {})
        return page
    return error_response(code, description, headers)


def validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body"))
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", "invalid"))
    return "; ".join(parts) or "invalid request"


def log_unhandled(method: str, path: str, exc: BaseException) -> None:
    """Logs the error's type and stack but not its message, which may quote the request."""
    stack = "".join(traceback.format_tb(exc.__traceback__)).rstrip()
    log.error("unhandled %s on %s %s\n%s", type(exc).__name__, method, path, stack)


@dataclass(eq=False)
class UnhandledErrors(HttpMiddleware):
    """ASGI middleware turning an unhandled exception into a JSON 500 that the app's outer
    middleware (timing, metrics) still sees; Starlette's own handler sits outside all of them.

    The exception goes no further, so the server never logs it with its message either.
    """

    pages: bool = False

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:  # noqa: BLE001 - every error becomes a 500; none escapes
            log_unhandled(scope["method"], scope["path"], exc)
            if not started:  # else the server closes the half-sent response
                reply = client_error(Request(scope), 500, "internal error", pages=self.pages)
                await reply(scope, receive, send)


def install_error_handlers(app: FastAPI, pages: bool = False) -> None:
    """Errors for `app` (JSON, or HTML on page paths when it serves `pages`); call it before adding
    middleware, so that each one sees every 500.

    The Exception handler catches only what the middleware outside UnhandledErrors raises.
    """
    app.add_middleware(UnhandledErrors, pages=pages)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> HTMLResponse | JSONResponse:
        return client_error(request, exc.status_code, str(exc.detail), exc.headers, pages)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(
        request: Request, exc: RequestValidationError
    ) -> HTMLResponse | JSONResponse:
        return client_error(request, 422, validation_message(exc), pages=pages)

    @app.exception_handler(QueryError)
    async def bad_query(request: Request, exc: QueryError) -> HTMLResponse | JSONResponse:
        return client_error(request, 422, str(exc), pages=pages)

    @app.exception_handler(StoreError)
    async def store_unavailable(request: Request, exc: StoreError) -> HTMLResponse | JSONResponse:
        log.error("vector store unavailable: %s", exc)
        return client_error(request, 503, "the search index is unavailable", pages=pages)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> HTMLResponse | JSONResponse:
        log_unhandled(request.method, request.url.path, exc)
        return client_error(request, 500, "internal error", pages=pages)
