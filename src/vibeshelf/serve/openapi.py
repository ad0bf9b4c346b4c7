"""The OpenAPI document: every error status a route can send, with the JSON body it is sent in."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from vibeshelf.serve.errors import ErrorBody

# Sent by any route: the HTTP server's refusal of an unreadable request, the body limit
# (serve/limits.py) and an unexpected failure.
ANY_ROUTE = (400, 413, 500)
DESCRIPTIONS: dict[int, str] = {
    400: "the request could not be read: the HTTP server refuses a request line over 64 KiB in "
    "plain text; a body that does not decode (e.g. not UTF-8) gets the JSON error body",
    401: "missing or invalid credentials (see WWW-Authenticate)",
    403: "the credentials lack the scope this route needs",
    404: "what the request names does not exist, or is not configured",
    409: "the event was already recorded",
    413: "the request body is over the limit",
    422: "a parameter or body field is missing, malformed or out of range",
    429: "rate limit exceeded (see Retry-After)",
    500: "internal error",
    503: "a store or model the route needs is unavailable",
}
HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "How to authenticate", "required": True,
                               "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait", "required": True,
                          "schema": {"type": "string"}}},
}
ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
# What uvicorn answers a request it cannot parse with, before the app sees it.
SERVER_REFUSAL = {"text/plain": {"schema": {"type": "string"}}}
# FastAPI's own 422 body, which this service never sends.
FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")
FASTAPI_422_REF = "#/components/schemas/HTTPValidationError"


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: the statuses beyond those every such route sends."""
    return {code: {"description": _description(code)} for code in codes}


def _description(code: int) -> str:
    return DESCRIPTIONS.get(code, HTTPStatus(code).phrase)


def operation_errors(operation: dict[str, Any]) -> list[int]:
    """The statuses any operation can send, plus 422 with parameters or a body (unless a
    "default" response stands for its other errors: a protocol's, answering them its own way)."""
    codes = list(ANY_ROUTE)
    takes_input = "requestBody" in operation or operation.get("parameters")
    if takes_input and "default" not in operation["responses"]:
        codes.append(422)
    return codes


def _document_operation(operation: dict[str, Any]) -> None:
    """Every error status of `operation` (its own and those of any route) has its error body: the
    one the operation documents itself (a protocol route's own shape, given as `default`), else
    the service's ErrorBody."""
    responses = operation["responses"]
    if _is_fastapi_422(responses.get("422", {})):
        del responses["422"]
    own = [int(code) for code in responses if code.isdigit() and int(code) >= 400]
    shaped = responses.get("default", {}).get("content")
    for code in sorted({*own, *operation_errors(operation)}):
        entry = responses.setdefault(str(code), {"description": _description(code)})
        entry.setdefault("content", dict(shaped or ERROR_CONTENT))
        if code == 400:
            entry["content"] = {**entry["content"], **SERVER_REFUSAL}
        if code in HEADERS:
            entry.setdefault("headers", HEADERS[code])


def _is_fastapi_422(entry: dict[str, Any]) -> bool:
    schema = entry.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == FASTAPI_422_REF)


def _document(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorBody"] = ErrorBody.model_json_schema()
    for name in FASTAPI_VALIDATION:
        components.pop(name, None)
    for operations in schema["paths"].values():
        for operation in operations.values():
            _document_operation(operation)


def document_errors(app: FastAPI) -> None:
    """/openapi.json lists, on every operation, the error statuses it sends and the error body."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _document(FastAPI.openapi(app))
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
