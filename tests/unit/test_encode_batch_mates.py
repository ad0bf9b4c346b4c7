"""Through /v1/encode, a text's vector is bit-identical alone and micro-batched with any others."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence

import httpx
import numpy as np
import pytest

from vibeshelf.config.core import ModelSettings
from vibeshelf.embed.encoder import OnnxEncoder, load_encoder
from vibeshelf.serve.app import create_app
from vibeshelf.settings import Settings

KEY = "in-process-key-0123456789"
TEXTS = [
    "cozy mystery",
    "a grim war story told by a ghost who cannot leave the lighthouse where he drowned",
    "dragons",
    "space opera with found family, long journeys and a secret crown " * 8,
    "winter island romance",
]


class RecordingEncoder:
    """The real int8 encoder, noting how many texts each run of the batcher got."""

    def __init__(self, inner: OnnxEncoder, batches: list[int] | None = None) -> None:
        self.inner = inner
        self.name, self.version, self.dim = inner.name, inner.version, inner.dim
        self.normalization = inner.normalization
        self.batches = [] if batches is None else batches

    def spread(self, streams: int) -> RecordingEncoder:
        """What the service runs batches on: the inner encoder's runs over `streams` threads."""
        return RecordingEncoder(self.inner.spread(streams), self.batches)

    def encode(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool = False
    ) -> np.ndarray:
        self.batches.append(len(texts))
        return self.inner.encode(texts, batch_size=batch_size, progress=progress)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> OnnxEncoder:
    return load_encoder(ModelSettings(threads=1), tmp_path_factory.mktemp("models"))


async def vectors_from(encoder: RecordingEncoder, calls: list[list[str]]) -> list[np.ndarray]:
    """Each call's vectors (base64 float32, exact) from concurrent POST /v1/encode requests to an
    app that waits long enough for them to share a batch (its runs spread over two threads); no
    cache, so every text is encoded."""
    settings = Settings.model_validate({
        "serve": {"apis": "encode"}, "auth": {"api_keys": {"t": {"key": KEY}}},
        "encode": {"batch_wait_ms": 50, "batch_max_texts": 64, "workers": 2, "cache_size": 0},
    })
    app = create_app(settings, encoder=encoder)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test",
                          headers={"X-API-Key": KEY}) as client,
    ):
        responses = await asyncio.gather(*(
            client.post("/v1/encode", json={"texts": texts, "encoding_format": "base64"})
            for texts in calls
        ))
    out = []
    for response in responses:
        assert response.status_code == 200, response.text
        rows = [np.frombuffer(base64.b64decode(b), dtype="<f4") for b in response.json()["vectors"]]
        out.append(np.stack(rows))
    return out


def test_a_vector_is_the_same_alone_and_in_any_batch(encoder: OnnxEncoder) -> None:
    alone = [asyncio.run(vectors_from(RecordingEncoder(encoder), [[text]]))[0][0] for text in TEXTS]
    for shift in range(len(TEXTS)):  # each text among different batch-mates, in another position
        order = TEXTS[shift:] + TEXTS[:shift]
        recording = RecordingEncoder(encoder)
        calls = [[text] for text in order] + [order[::-1]]
        got = asyncio.run(vectors_from(recording, calls))
        assert max(recording.batches) > 1, recording.batches  # requests really shared a run
        for text, vectors in zip(order, got, strict=False):
            np.testing.assert_array_equal(vectors[0], alone[TEXTS.index(text)])
        for text, vector in zip(order[::-1], got[-1], strict=True):
            np.testing.assert_array_equal(vector, alone[TEXTS.index(text)])
