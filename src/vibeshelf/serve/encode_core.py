"""The one encode path that every protocol of the embedding service (/v1/encode, OpenAI, TEI) shares."""

from __future__ import annotations

import base64
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from itertools import pairwise
from typing import Annotated, Any, Protocol

import numpy as np
import orjson
from fastapi import Response
from pydantic import (
    AfterValidator,
    BaseModel,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from tokenizers import Encoding

from vibeshelf.embed.batcher import EncoderError, QueueFullError
from vibeshelf.embed.encoder import Encoder, TokenizingEncoder
from vibeshelf.embed.service import EmbeddingService, Encoded
from vibeshelf.serve.auth import Principal
from vibeshelf.serve.limits import RateLimiter, check_texts
from vibeshelf.serve.metrics import Metrics
from vibeshelf.serve.protocol_errors import Refusal
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


Text = Annotated[str, AfterValidator(_encodable)]


def one_message(message: str) -> WrapValidator:
    """A validator giving `message` alone when a union field fits none of its kinds, instead of
    one error per kind that it is not."""

    def validate(value: object, handler: ValidatorFunctionWrapHandler) -> object:
        try:
            return handler(value)
        except ValidationError:
            raise ValueError(message) from None

    return WrapValidator(validate)


class ModelInfo(BaseModel):
    name: str
    version: str
    dim: int
    normalization: str


class ProtocolObserver(Protocol):
    """What counts the texts each protocol (encode, openai, tei) sends."""

    def texts_encoded(self, protocol: str, texts: int) -> None: ...


class EncodeApi:
    """What the handlers of every protocol share: the service, limits and the settings they come
    from, and the one encode path (limits, model, rate, cache, batching, metrics, logs)."""

    def __init__(
        self, service: EmbeddingService, settings: Settings, observer: ProtocolObserver | None = None
    ) -> None:
        self.service = service
        self.limits = settings.encode
        self.limiter = RateLimiter(settings.encode.rate_limit_per_s, settings.encode.rate_limit_burst)
        self.observer = observer
        self.loaded_at = int(time.time())
        enc = service.encoder
        self.model = ModelInfo(
            name=enc.name, version=enc.version, dim=enc.dim, normalization=enc.normalization
        )
        self.model_facts = self.model.model_dump()

    @property
    def tokenizer(self) -> TokenizingEncoder:
        """The encoder's tokenizer, for the protocols that count or take tokens (501 without)."""
        encoder = self.service.encoder
        if not isinstance(encoder, TokenizingEncoder):
            raise HTTPException(501, f"the served encoder {encoder.name!r} has no tokenizer")
        return encoder

    def count(self, **fields: list[str]) -> int:
        """The number of texts in `fields`; 413 when there are more, or longer ones, than allowed."""
        return check_texts(self.limits.max_texts, self.limits.max_text_chars, **fields)

    async def tokenize(self, texts: list[str]) -> list[Encoding]:
        """The tokens the model reads for each text (truncated), computed off the event loop."""
        return await run_in_threadpool(self.tokenizer.tokenize, texts)

    async def encode(
        self, caller: Principal, model: str | None, protocol: str, **fields: list[str]
    ) -> tuple[list[np.ndarray], Encoded]:
        """Vectors per field after the limit, model and rate checks; logs no text unless allowed."""
        count = self.count(**fields)
        if model is not None and model not in (self.model.name, self.model.version):
            raise Refusal(
                404, f"model {model!r} is not loaded: GET /v1/models lists them",
                param="model", code="model_not_found",
            )
        self.limiter.check(caller.id, count, caller.rate_per_s)
        texts = [text for group in fields.values() for text in group]
        try:
            result = await self.service.encode(texts)
        except QueueFullError as exc:
            raise HTTPException(503, f"busy: {exc}", headers={"Retry-After": "1"}) from None
        except EncoderError:  # already logged by the batcher, without the texts
            raise HTTPException(500, "the encoder failed on these texts") from None
        extra: dict[str, Any] = {
            "caller": caller.id, "protocol": protocol, "count": count, "cached": result.cached,
        }
        if self.limits.log_texts:
            extra["texts"] = texts
        log.info("encoded %d texts (%d cached)", count, result.cached, extra=extra)
        if self.observer is not None:
            self.observer.texts_encoded(protocol, count)
        bounds = np.cumsum([0, *(len(group) for group in fields.values())])
        return [result.vectors[lo:hi] for lo, hi in pairwise(bounds)], result


def as_base64(vectors: np.ndarray) -> list[str]:
    """Each row as base64 of its little-endian float32 bytes (what OpenAI sends)."""
    return [base64.b64encode(row.astype("<f4").tobytes()).decode() for row in vectors]


def json_response(payload: Any, result: Encoded) -> Response:
    """orjson (numpy arrays serialised natively) plus the cache and encode times in Server-Timing."""
    timing = f"cache;dur={result.cache_s * 1000:.2f}, encode;dur={result.encode_s * 1000:.2f}"
    return Response(
        orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY),
        media_type="application/json",
        headers={"Server-Timing": timing},
    )


@asynccontextmanager
async def serving_encode_api(
    settings: Settings, encoder: Encoder, metrics: Metrics | None
) -> AsyncIterator[EncodeApi]:
    """The embedding service over `encoder`, running (its batcher started) until the block ends;
    meanwhile the process's GIL switch interval is `encode.gil_switch_ms`, so that an encoder
    thread back from a run gets the GIL from the busy event loop without waiting 5 ms for it."""
    service = EmbeddingService(encoder, settings.encode, metrics)
    await service.start()
    if not settings.auth.enabled:
        log.warning("auth is disabled: anyone who can reach this server may use /v1")
    interval = sys.getswitchinterval()
    sys.setswitchinterval(settings.encode.gil_switch_ms / 1000)
    try:
        yield EncodeApi(service, settings, metrics)
    finally:
        sys.setswitchinterval(interval)
        await service.close()
