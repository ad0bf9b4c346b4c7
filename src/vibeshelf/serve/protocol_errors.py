"""Errors in a client protocol's own shape: routes whose refusals leave as OpenAI or TEI errors."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from vibeshelf.serve.errors import validation_message


class Refusal(HTTPException):
    """An HTTPException that names the request field at fault (`param`) and a machine `code`."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, detail, dict(headers) if headers else None)
        self.param = param
        self.code = code


ErrorShape = Callable[[int, str, Refusal | None], dict[str, Any]]
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def documented(
    shape: type[BaseModel], descriptions: Mapping[int | str, str]
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses`: each status with its description and the error body's schema."""
    return {code: {"model": shape, "description": text} for code, text in descriptions.items()}


def shaped_errors(shape: ErrorShape, invalid_status: int) -> type[APIRoute]:
    """A route class answering every HTTPException (auth, limits, refusals) and malformed request
    (with `invalid_status`) as the JSON body `shape` makes from the status, message and refusal."""

    class ShapedErrorsRoute(APIRoute):
        def get_route_handler(self) -> Handler:
            handler = super().get_route_handler()

            async def shaped(request: Request) -> Response:
                try:
                    return await handler(request)
                except RequestValidationError as exc:
                    param = _first_field(exc)
                    refusal = Refusal(invalid_status, validation_message(exc), param=param)
                    return _render(shape, refusal)
                except HTTPException as exc:
                    return _render(shape, exc)

            return shaped

    return ShapedErrorsRoute


def _render(shape: ErrorShape, exc: HTTPException) -> JSONResponse:
    refusal = exc if isinstance(exc, Refusal) else None
    body = shape(exc.status_code, str(exc.detail), refusal)
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def _first_field(exc: RequestValidationError) -> str | None:
    """The top-level body field of the first validation error (e.g. `input`), if any."""
    for err in exc.errors():
        loc = [part for part in err.get("loc", ()) if part != "body"]
        if loc and isinstance(loc[0], str):
            return loc[0]
    return None
