"""The embedding service over HTTP: POST /v1/encode, GET /v1/models, POST /v1/similarity."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from itertools import pairwise
from typing import Annotated, Any, Literal

import numpy as np
import orjson
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from starlette.exceptions import HTTPException

from vibeshelf import __version__
from vibeshelf.embed.batcher import EncoderError, QueueFullError
from vibeshelf.embed.encoder import Encoder, load_encoder
from vibeshelf.embed.service import EmbeddingService, Encoded
from vibeshelf.serve.auth import Principal, require_scope
from vibeshelf.serve.limits import BodySizeLimit, RateLimiter, check_texts
from vibeshelf.settings import Settings

log = logging.getLogger(__name__)

SCOPE = "encode"


def _encodable(text: str) -> str:
    """Refuses what no encoder can read (lone surrogates) before it can fail a shared batch."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"not valid Unicode at character {exc.start}") from None
    return text


def _as_list(texts: object) -> object:
    return [texts] if isinstance(texts, str) else texts


Texts = Annotated[
    list[Annotated[str, AfterValidator(_encodable)]],
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


class ModelInfo(BaseModel):
    name: str
    version: str
    dim: int
    normalization: str


class EncodeResponse(ModelInfo):
    encoding_format: str
    count: int
    cached: int = Field(description="Distinct texts answered from the cache")
    vectors: list[list[float]] | list[str]


class SimilarityResponse(ModelInfo):
    metric: Literal["cosine"] = "cosine"
    scores: list[list[float]] = Field(description="scores[i][j] = cosine(a[i], b[j])")


class ModelsResponse(BaseModel):
    models: list[ModelInfo]


class EncodeApi:
    """What the /v1 handlers share: the service, limits and the settings they come from."""

    def __init__(self, service: EmbeddingService, settings: Settings) -> None:
        self.service = service
        self.limits = settings.encode
        self.limiter = RateLimiter(settings.encode.rate_limit_per_s, settings.encode.rate_limit_burst)
        enc = service.encoder
        self.model = ModelInfo(
            name=enc.name, version=enc.version, dim=enc.dim, normalization=enc.normalization
        )
        self.model_facts = self.model.model_dump()

    async def encode(
        self, caller: Principal, model: str | None, **fields: list[str]
    ) -> tuple[list[np.ndarray], Encoded]:
        """Vectors per field after the limit, model and rate checks; logs no text unless allowed."""
        count = check_texts(self.limits.max_texts, self.limits.max_text_chars, **fields)
        if model is not None and model not in (self.model.name, self.model.version):
            raise HTTPException(404, f"model {model!r} is not loaded: GET /v1/models lists them")
        self.limiter.check(caller.id, count, caller.rate_per_s)
        texts = [text for group in fields.values() for text in group]
        try:
            result = await self.service.encode(texts)
        except QueueFullError as exc:
            raise HTTPException(503, f"busy: {exc}", headers={"Retry-After": "1"}) from None
        except EncoderError:  # already logged by the batcher, without the texts
            raise HTTPException(500, "the encoder failed on these texts") from None
        extra: dict[str, Any] = {"caller": caller.id, "count": count, "cached": result.cached}
        if self.limits.log_texts:
            extra["texts"] = texts
        log.info("encoded %d texts (%d cached)", count, result.cached, extra=extra)
        bounds = np.cumsum([0, *(len(group) for group in fields.values())])
        return [result.vectors[lo:hi] for lo, hi in pairwise(bounds)], result


def json_response(payload: dict[str, Any], result: Encoded) -> Response:
    """orjson (numpy arrays serialised natively) plus the cache and encode times in Server-Timing."""
    timing = f"cache;dur={result.cache_s * 1000:.2f}, encode;dur={result.encode_s * 1000:.2f}"
    return Response(
        orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY),
        media_type="application/json",
        headers={"Server-Timing": timing},
    )


async def _api(request: Request) -> EncodeApi:  # async: a sync dependency would take a thread hop
    return request.app.state.encode_api


Api = Annotated[EncodeApi, Depends(_api)]
Caller = Annotated[Principal, Depends(require_scope(SCOPE))]


@router.post("/encode", response_model=EncodeResponse)
async def encode(body: EncodeRequest, api: Api, caller: Caller) -> Response:
    """Vectors for one text or a batch, as JSON floats or base64 little-endian float32."""
    (vectors,), result = await api.encode(caller, body.model, texts=body.texts)
    if body.encoding_format == "base64":
        out: Any = [base64.b64encode(row.astype("<f4").tobytes()).decode() for row in vectors]
    else:
        out = vectors
    payload = {
        **api.model_facts, "encoding_format": body.encoding_format,
        "count": len(vectors), "cached": result.cached, "vectors": out,
    }
    return json_response(payload, result)


@router.post("/similarity", response_model=SimilarityResponse)
async def similarity(body: SimilarityRequest, api: Api, caller: Caller) -> Response:
    """The cosine matrix between two lists of texts (vectors are unit length: dot products)."""
    (a, b), result = await api.encode(caller, body.model, a=body.a, b=body.b)
    payload = {**api.model_facts, "metric": "cosine", "scores": a @ b.T}
    return json_response(payload, result)


@router.get("/models", dependencies=[Depends(require_scope(None))])
async def models(api: Api) -> ModelsResponse:
    """The loaded models (any valid credentials)."""
    return ModelsResponse(models=[api.model])


@health_router.get("/health")
async def health(api: Api) -> dict[str, Any]:
    """Liveness plus the model being served (the encode-only app)."""
    return {"status": "ok", "version": __version__, "model": api.model_facts}


def install_encode_api(app: FastAPI, settings: Settings, *, standalone: bool) -> None:
    """Mounts /v1 (and /health when `standalone`); `app.state.authenticator` checks its callers."""
    app.add_middleware(BodySizeLimit, max_bytes=settings.encode.max_body_bytes, prefix="/v1/")
    app.include_router(router)
    if standalone:
        app.include_router(health_router)


@asynccontextmanager
async def encode_lifespan(
    app: FastAPI, settings: Settings, encoder: Encoder | None = None
) -> AsyncIterator[None]:
    """Runs the embedding service (loading the encoder unless given) while the app serves."""
    encoder = encoder or load_encoder(settings.model, settings.models_dir)
    service = EmbeddingService(encoder, settings.encode, getattr(app.state, "metrics", None))
    await service.start()
    app.state.encode_api = EncodeApi(service, settings)
    if not settings.auth.enabled:
        log.warning("auth is disabled: anyone who can reach this server may use /v1")
    try:
        yield
    finally:
        await service.close()
