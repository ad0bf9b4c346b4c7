"""The embedding service over HTTP: POST /v1/encode, GET /v1/models, POST /v1/similarity; mounts
the OpenAI and TEI protocols beside them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from vibeshelf import __version__
from vibeshelf.serve import openai_api, tei_api
from vibeshelf.serve.deps import CALLER_SECURITY, AnyCaller, Api, EncodeCallDep
from vibeshelf.serve.encode_core import (
    ModelInfo,
    Text,
    as_base64,
    json_response,
)

# Where request bodies are limited: /v1 (this API and the OpenAI one) and TEI's /embed.


def _as_list(texts: object) -> object:
    return [texts] if isinstance(texts, str) else texts


Texts = Annotated[
    list[Text],
    BeforeValidator(_as_list),
    Field(min_length=1, description="One text or a non-empty list of texts"),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}),
]
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": description}
    for code, description in {
        401: "missing or invalid credentials (see WWW-Authenticate)",
        403: "the credentials lack the `encode` scope",
        404: "the requested model is not loaded",
        413: "body, texts per request or characters per text over the limit",
        422: "malformed request",
        429: "rate limit exceeded (see Retry-After)",
        500: "the encoder failed",
        503: "too many texts waiting to be encoded (see Retry-After)",
    }.items()
}

router = APIRouter(prefix="/v1", tags=["embeddings"], responses=ERRORS)
health_router = APIRouter(tags=["ops"])


class EncodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: Texts
    encoding_format: Literal["float", "base64"] = Field(
        "float", description="`base64`: each vector as little-endian float32 bytes, base64-encoded"
    )
    model: str | None = Field(None, description="The loaded model's name or version (optional)")


class SimilarityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: Texts
    b: Texts
    model: str | None = None


class EncodeResponse(ModelInfo):
    encoding_format: str
    count: int
    cached: int = Field(description="Distinct texts answered from the cache")
    vectors: list[list[float]] | list[str]


class SimilarityResponse(ModelInfo):
    metric: Literal["cosine"] = "cosine"
    scores: list[list[float]] = Field(description="scores[i][j] = cosine(a[i], b[j])")


class ModelCard(BaseModel):
    """A model as OpenAI lists it."""

    id: str = Field(description="The model's name, as `model` in requests")
    object: Literal["model"] = "model"
    created: int = Field(description="When this server loaded it (Unix seconds)")
    owned_by: str = "vibeshelf"


class ModelsResponse(BaseModel):
    """OpenAI's model list (`object`, `data`) and this API's own (`models`) in one body."""

    object: Literal["list"] = "list"
    data: list[ModelCard]
    models: list[ModelInfo]


@router.post("/encode", response_model=EncodeResponse, openapi_extra=CALLER_SECURITY)
async def encode(body: EncodeRequest, call: EncodeCallDep) -> Response:
    """Vectors for one text or a batch, as JSON floats or base64 little-endian float32."""
    api = call.api
    (vectors,), result = await api.encode(call.caller, body.model, "encode", texts=body.texts)
    out = as_base64(vectors) if body.encoding_format == "base64" else vectors
    payload = {
        **api.model_facts, "encoding_format": body.encoding_format,
        "count": len(vectors), "cached": result.cached, "vectors": out,
    }
    return json_response(payload, result)


@router.post("/similarity", response_model=SimilarityResponse, openapi_extra=CALLER_SECURITY)
async def similarity(body: SimilarityRequest, call: EncodeCallDep) -> Response:
    """The cosine matrix between two lists of texts (vectors are unit length: dot products)."""
    api = call.api
    (a, b), result = await api.encode(call.caller, body.model, "encode", a=body.a, b=body.b)
    payload = {**api.model_facts, "metric": "cosine", "scores": a @ b.T}
    return json_response(payload, result)


@router.get("/models", dependencies=[AnyCaller])
async def models(api: Api) -> ModelsResponse:
    """The loaded models (any valid credentials), in OpenAI's list shape and this API's own."""
    card = ModelCard(id=api.model.name, created=api.loaded_at)
    return ModelsResponse(data=[card], models=[api.model])


@health_router.get("/health")
async def health(api: Api) -> dict[str, Any]:
    """Liveness plus the model being served (the encode-only app)."""
    return {"status": "ok", "version": __version__, "model": api.model_facts}


def install_encode_api(app: FastAPI, *, standalone: bool) -> None:
    """Mounts /v1, the OpenAI and TEI protocols (and /health when `standalone`); the app's
    authenticator checks their callers and its BodySizeLimit applies `encode.max_body_bytes`."""
    app.include_router(router)
    app.include_router(openai_api.router)
    app.include_router(tei_api.router)
    if standalone:
        app.include_router(health_router)
