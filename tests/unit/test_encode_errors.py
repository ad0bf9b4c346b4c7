"""Server errors of the embedding service, in process: 500s and a full queue as timed JSON."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from tests.e2e.encode_server import error, timed
from vibeshelf.serve.app import create_app
from vibeshelf.settings import Settings

KEY = "in-process-key-0123456789"
SECRET_TEXT = "tangerine submarine 4812 softly"


class StubEncoder:
    """A 4-dim encoder that raises when `fail`, and waits for `release` before answering."""

    name, version, dim, normalization = "stub", "stub/1", 4, "l2"

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def encode(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool = False
    ) -> np.ndarray:
        if self.fail:
            raise RuntimeError(f"cannot encode {list(texts)}")
        self.entered.set()
        assert self.release.wait(10)
        return np.full((len(texts), self.dim), 0.5, dtype=np.float32)


@asynccontextmanager
async def served(
    encoder: StubEncoder, **encode: object
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The encode-only app around `encoder`, started, and a client sending the API key."""
    settings = Settings.model_validate(
        {"serve": {"apis": "encode"}, "auth": {"api_keys": {"t": {"key": KEY}}}, "encode": encode}
    )
    app = create_app(settings, encoder=encoder)
    transport = httpx.ASGITransport(app)  # raises any exception the app lets escape
    headers = {"X-API-Key": KEY}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as client,
    ):
        yield app, client


def no_text_logged(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records and SECRET_TEXT not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)


def test_an_unhandled_error_is_a_timed_json_500_logged_without_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def calls() -> tuple[httpx.Response, str]:
        async with served(StubEncoder()) as (app, client):

            @app.get("/boom")
            async def boom() -> None:
                raise RuntimeError(f"cannot handle {SECRET_TEXT}")

            return await client.get("/boom"), (await client.get("/metrics")).text

    caplog.set_level(logging.INFO)
    resp, metrics = asyncio.run(calls())
    assert error(resp, 500) == "internal error"
    timed(resp)
    assert 'vibeshelf_http_errors_total{code="500"} 1.0' in metrics
    errors = [r.getMessage().split("\n")[0] for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == ["unhandled RuntimeError on GET /boom"]
    assert "in boom" in caplog.text  # the stack is logged, its message is not
    no_text_logged(caplog)


def test_an_encoder_failure_is_a_timed_json_500_logged_without_the_texts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def call() -> httpx.Response:
        async with served(StubEncoder(fail=True)) as (_, client):
            return await client.post("/v1/encode", json={"texts": [SECRET_TEXT, "other"]})

    caplog.set_level(logging.INFO)
    resp = asyncio.run(call())
    assert error(resp, 500) == "the encoder failed on these texts"
    timed(resp)
    assert "encoder failed on 2 texts: RuntimeError" in caplog.text
    no_text_logged(caplog)


async def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.001)


def test_a_full_encoder_queue_is_503_with_retry_after() -> None:
    encoder = StubEncoder()
    encoder.release.clear()

    async def calls() -> list[httpx.Response]:
        async with served(encoder, workers=1, max_queued_texts=1, batch_wait_ms=0) as (app, client):
            batcher = app.state.services.encode.service.batcher
            try:
                running = asyncio.create_task(client.post("/v1/encode", json={"texts": "running"}))
                await asyncio.to_thread(encoder.entered.wait, 10)
                waiting = asyncio.create_task(client.post("/v1/encode", json={"texts": "waiting"}))
                await until(lambda: batcher.queued == 1)
                refused = await client.post("/v1/encode", json={"texts": "refused"})
            finally:
                encoder.release.set()
            return [refused, await running, await waiting]

    refused, *served_meanwhile = asyncio.run(calls())
    assert "texts already waiting to be encoded" in error(refused, 503)
    assert refused.headers["Retry-After"] == "1"
    timed(refused)
    assert [resp.status_code for resp in served_meanwhile] == [200, 200]
