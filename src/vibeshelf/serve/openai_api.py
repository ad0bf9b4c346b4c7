"""OpenAI-compatible embeddings: POST /v1/embeddings, answering and refusing as OpenAI does."""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, FastAPI, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from vibeshelf.embed.encoder import Encoder, TokenizingEncoder
from vibeshelf.serve.deps import CALLER_SECURITY, EncodeCallDep
from vibeshelf.serve.encode_core import (
    ModelInfo,
    Text,
    as_base64,
    json_response,
    one_message,
)
from vibeshelf.serve.limits import check_count
from vibeshelf.serve.protocol_errors import Refusal, documented, shaped_errors

PROTOCOL = "openai"
# OpenAI's error `code` for a status, where the refusal names none of its own.
CODES = {
    401: "invalid_api_key",
    403: "insufficient_permissions",
    413: "request_too_large",
    429: "rate_limit_exceeded",
    503: "overloaded",
}


class OpenAIError(BaseModel):
    message: str
    type: str = Field(description="invalid_request_error, requests (rate limit) or server_error")
    param: str | None = Field(description="The request field at fault, if one is")
    code: str | None


class OpenAIErrorResponse(BaseModel):
    error: OpenAIError


def openai_error(status: int, message: str, refusal: Refusal | None) -> dict[str, Any]:
    """OpenAI's error body: `type` by status, so the SDK raises the matching exception."""
    kind = "server_error" if status >= 500 else "requests" if status == 429 else "invalid_request_error"
    param = refusal.param if refusal else None
    code = (refusal.code if refusal else None) or CODES.get(status)
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


ERRORS = documented(
    OpenAIErrorResponse,
    {
        400: "malformed request, an unknown token id or an unsupported `dimensions`",
        401: "missing or invalid API key or token (code invalid_api_key)",
        403: "the credentials lack the `encode` scope",
        404: "the requested model is not loaded (code model_not_found)",
        413: "body, inputs per request or characters per input over the limit",
        429: "rate limit exceeded (see Retry-After)",
        500: "the encoder failed",
        503: "too many texts waiting to be encoded (see Retry-After)",
        "default": "any other error, in the same shape",
    },
)

router = APIRouter(
    prefix="/v1", tags=["openai"], responses=ERRORS, route_class=shaped_errors(openai_error, 400)
)

INPUT_KINDS = (
    "input must be a text, a list of texts (non-empty, valid Unicode), token ids (a non-empty list "
    "of integers >= 0) or a list of those"
)


def _integral(value: object) -> object:
    """A float without a fractional part is an integer, as JSON Schema says (2.0 is 2)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


NonEmptyText = Annotated[Text, Field(min_length=1)]
TokenId = Annotated[StrictInt, Field(ge=0), BeforeValidator(_integral)]
TokenIds = Annotated[list[TokenId], Field(min_length=1)]
Input = Annotated[
    NonEmptyText
    | Annotated[list[NonEmptyText], Field(min_length=1)]
    | TokenIds
    | Annotated[list[TokenIds], Field(min_length=1)],
    one_message(INPUT_KINDS),
]
GivenInput = str | list[str] | list[int] | list[list[int]]


class EmbeddingsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    input: Input = Field(
        description="A text, a list of texts, or token ids of this model's tokenizer (one list "
        "per text); at most `encode.max_texts` texts of `encode.max_text_chars` characters (413)"
    )
    model: str = Field(description="The loaded model's name (GET /v1/models) or version")
    encoding_format: Literal["float", "base64"] = Field(
        "float", description="`base64`: each vector as little-endian float32 bytes, base64-encoded"
    )
    dimensions: Annotated[StrictInt, Field(ge=1), BeforeValidator(_integral)] | None = Field(
        None, description="Must be the model's dimension: it cannot shorten its vectors"
    )
    user: str | None = Field(None, description="Accepted and ignored")


class Embedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class Usage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingsResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[Embedding]
    model: str
    usage: Usage


def texts_of(given: GivenInput, tokens: TokenizingEncoder, max_texts: int) -> list[str]:
    """The texts to encode: as given, or decoded from token ids by the model's tokenizer (413
    before decoding more than `max_texts`)."""
    if isinstance(given, str):
        return [given]
    first = given[0]  # the request model allows no empty list, nor mixed items
    if isinstance(first, str):
        return cast(list[str], given)
    rows = cast(list[list[int]], given if isinstance(first, list) else [given])
    check_count(len(rows), max_texts)
    return [decoded(row, i, tokens) for i, row in enumerate(rows)]


def decoded(ids: list[int], row: int, tokens: TokenizingEncoder) -> str:
    """One text from its token ids; 400 for an id outside the model's vocabulary."""
    vocab = tokens.vocab_size
    bad = next((i for i in ids if i >= vocab), None)
    if bad is not None:
        raise Refusal(
            400,
            f"input[{row}]: token id {bad} is not in the vocabulary of {tokens.name} ({vocab} ids): "
            "token ids must come from this model's tokenizer, not OpenAI's",
            param="input",
        )
    return tokens.decode(ids)


def check_dimensions(dimensions: int | None, model: ModelInfo) -> None:
    """400 unless `dimensions` is absent or the model's own: it cannot shorten its vectors."""
    if dimensions is not None and dimensions != model.dim:
        raise Refusal(
            400,
            f"{model.name} gives {model.dim}-dimensional vectors and does not support shortening "
            f"them: leave `dimensions` out or send {model.dim}",
            param="dimensions",
        )


def document_model(app: FastAPI, encoder: Encoder) -> None:
    """From now on `app.openapi()` says what the loaded model accepts: its own `dimensions` and,
    with a tokenizer, token ids below its vocabulary size. (The size limits stay in the
    descriptions: a schema-driven client would take a 413 for an invalid request.)"""
    build = app.openapi
    vocab = encoder.vocab_size if isinstance(encoder, TokenizingEncoder) else None

    def openapi() -> dict[str, Any]:
        schema = build()
        fields = schema["components"]["schemas"]["EmbeddingsRequest"]["properties"]
        fields["dimensions"]["anyOf"] = [{"type": "integer", "const": encoder.dim}, {"type": "null"}]
        if vocab is not None:
            *_, ids, rows = fields["input"]["anyOf"]
            ids["items"]["maximum"] = rows["items"]["items"]["maximum"] = vocab - 1
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


@router.post("/embeddings", response_model=EmbeddingsResponse, openapi_extra=CALLER_SECURITY)
async def embeddings(body: EmbeddingsRequest, call: EncodeCallDep) -> Response:
    """Vectors in OpenAI's shape; the same service, limits and cache as /v1/encode."""
    api, caller = call.api, call.caller
    check_dimensions(body.dimensions, api.model)
    texts = texts_of(body.input, api.tokenizer, api.limits.max_texts)
    (vectors,), result = await api.encode(caller, body.model, PROTOCOL, input=texts)
    tokens = sum(len(encoding.ids) for encoding in await api.tokenize(texts))
    out = as_base64(vectors) if body.encoding_format == "base64" else vectors
    payload = {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": row} for i, row in enumerate(out)],
        "model": api.model.name,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return json_response(payload, result)
