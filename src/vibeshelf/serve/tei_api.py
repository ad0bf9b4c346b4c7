"""Text Embeddings Inference (TEI) compatible: POST /embed and GET /info, with TEI's errors."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from tokenizers import Encoding

from vibeshelf import __version__
from vibeshelf.serve.deps import CALLER_SECURITY, AnyCaller, Api, EncodeCallDep
from vibeshelf.serve.encode_core import Text, json_response, one_message
from vibeshelf.serve.protocol_errors import Refusal, documented, shaped_errors

PROTOCOL = "tei"
ERROR_TYPES = ("validation", "tokenizer", "empty", "overloaded", "backend", "unhealthy")
# TEI's error_type for a status, where the refusal names none of TEI's own.
TYPES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "overloaded", 503: "overloaded"}


class TeiError(BaseModel):
    error: str
    error_type: str = Field(
        description="validation, empty, overloaded, backend (as TEI), unauthorized, forbidden"
    )


def tei_error(status: int, message: str, refusal: Refusal | None) -> dict[str, Any]:
    """TEI's error body `{error, error_type}`."""
    code = refusal.code if refusal else None
    if code is None or code not in ERROR_TYPES:
        code = TYPES.get(status, "backend" if status >= 500 else "validation")
    return {"error": message, "error_type": code}


ERRORS = documented(
    TeiError,
    {
        400: "`inputs` is empty (error_type empty)",
        401: "missing or invalid API key or token",
        403: "the credentials lack the `encode` scope",
        413: "body, inputs per request, characters per input or (truncate=false) tokens per "
        "input over the limit",
        422: "malformed request, or normalize=false",
        429: "rate limit exceeded (see Retry-After)",
        500: "the encoder failed",
        503: "too many texts waiting to be encoded (see Retry-After)",
        "default": "any other error, in the same shape",
    },
)

router = APIRouter(tags=["tei"], responses=ERRORS, route_class=shaped_errors(tei_error, 422))


# Documented non-empty; an empty list is still read, to be refused as TEI does (400, empty).
EMPTY_IS_400 = {"type": "array", "items": {"type": "string"}, "minItems": 1}
NOT_NORMALIZED = (
    "normalize=false is not supported: the served ONNX graph normalises its vectors itself, so no "
    "un-normalised vector exists; leave normalize out or send true"
)


def _normalized(normalize: bool) -> bool:
    if not normalize:
        raise ValueError(NOT_NORMALIZED)
    return normalize


Normalize = Annotated[
    bool,
    AfterValidator(_normalized),
    WithJsonSchema({"type": "boolean", "const": True, "description": NOT_NORMALIZED}),
]


class EmbedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    inputs: Annotated[
        Text | list[Text],
        one_message("inputs must be a text or a list of texts (valid Unicode)"),
        WithJsonSchema({"anyOf": [{"type": "string"}, EMPTY_IS_400]}),
    ] = Field(
        description="One text or a non-empty list of texts; at most `encode.max_texts` texts of "
        "`encode.max_text_chars` characters (413)"
    )
    normalize: Normalize = True
    truncate: bool = Field(
        False, description="Cut inputs longer than the model's token limit (else 413, as TEI)"
    )


class Info(BaseModel):
    """TEI's /info fields where they apply, and the model's version and dimension."""

    model_id: str
    model_version: str
    dimension: int
    max_input_length: int = Field(description="Tokens per input; longer ones need truncate=true")
    max_input_chars: int = Field(description="Characters per input (413 over it)")
    max_client_batch_size: int = Field(description="Inputs per request")
    max_batch_requests: int = Field(description="Inputs per encoder run (micro-batch)")
    auto_truncate: Literal[False] = False
    version: str


def overlong(encodings: list[Encoding], max_tokens: int) -> None:
    """413 (validation) for the first input the tokenizer had to cut."""
    for i, encoding in enumerate(encodings):
        if encoding.overflowing:
            raise Refusal(
                413,
                f"inputs[{i}] is longer than the model's {max_tokens} tokens: shorten it or send "
                "truncate=true",
                code="validation",
            )


@router.post("/embed", response_model=list[list[float]], openapi_extra=CALLER_SECURITY)
async def embed(body: EmbedRequest, call: EncodeCallDep) -> Response:
    """Unit vectors for one text or a list, as TEI answers: a list of vectors."""
    api = call.api
    texts = [body.inputs] if isinstance(body.inputs, str) else body.inputs
    if not texts:
        raise Refusal(400, "`inputs` cannot be empty", code="empty")
    if not body.truncate:
        api.count(inputs=texts)  # the limits first: tokenizing is bounded by them
        overlong(await api.tokenize(texts), api.tokenizer.max_tokens)
    (vectors,), result = await api.encode(call.caller, None, PROTOCOL, inputs=texts)
    return json_response(vectors, result)


@router.get("/info", dependencies=[AnyCaller])
async def info(api: Api) -> Info:
    """The model and limits, in TEI's /info field names (any valid credentials)."""
    return Info(
        model_id=api.model.name,
        model_version=api.model.version,
        dimension=api.model.dim,
        max_input_length=api.tokenizer.max_tokens,
        max_input_chars=api.limits.max_text_chars,
        max_client_batch_size=api.limits.max_texts,
        max_batch_requests=api.limits.batch_max_texts,
        version=__version__,
    )
