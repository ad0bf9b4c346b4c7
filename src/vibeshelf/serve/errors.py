"""Every error leaves as JSON {code, name, description}; no stack trace reaches a client."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vibeshelf.index.base import StoreError
from vibeshelf.search.query import QueryError

log = logging.getLogger(__name__)


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


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body"))
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", "invalid"))
    return "; ".join(parts) or "invalid request"


def log_unhandled(method: str, path: str, exc: BaseException) -> None:
    """Logs the error's type and stack but not its message, which may quote the request."""
    stack = "".join(traceback.format_tb(exc.__traceback__)).rstrip()
    log.error("unhandled %s on %s %s\n%s", type(exc).__name__, method, path, stack)


class UnhandledErrors:
    """ASGI middleware turning an unhandled exception into a JSON 500 that the app's outer
    middleware (timing, metrics) still sees; Starlette's own handler sits outside all of them.

    The exception goes no further, so the server never logs it with its message either.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
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
                await error_response(500, "internal error")(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """JSON errors for `app`; call it before adding middleware, so that each one sees every 500.

    The Exception handler catches only what the middleware outside UnhandledErrors raises.
    """
    app.add_middleware(UnhandledErrors)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, _validation_message(exc))

    @app.exception_handler(QueryError)
    async def bad_query(request: Request, exc: QueryError) -> JSONResponse:
        return error_response(422, str(exc))

    @app.exception_handler(StoreError)
    async def store_unavailable(request: Request, exc: StoreError) -> JSONResponse:
        log.error("vector store unavailable: %s", exc)
        return error_response(503, "the search index is unavailable")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log_unhandled(request.method, request.url.path, exc)
        return error_response(500, "internal error")
