"""Micro-batching with the real encoder: every caller gets its own rows; the loop never blocks."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np
import pytest

from vibeshelf.config.core import ModelSettings
from vibeshelf.embed.batcher import EncoderError, MicroBatcher, QueueFullError
from vibeshelf.embed.encoder import OnnxEncoder, load_encoder


class Batches:
    def __init__(self) -> None:
        self.sizes: list[int] = []

    def batch_encoded(self, texts: int, seconds: float) -> None:
        self.sizes.append(texts)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> OnnxEncoder:
    return load_encoder(ModelSettings(threads=1), tmp_path_factory.mktemp("models"))


def texts_for(caller: int, count: int) -> list[str]:
    moods = ["cozy", "grim", "odd"]
    return [f"caller {caller} wants book {i}: a {moods[(caller + i) % 3]} tale" for i in range(count)]


async def with_batcher(batcher: MicroBatcher, calls: list[Sequence[str]]) -> list[np.ndarray]:
    await batcher.start()
    try:
        return await asyncio.gather(*(batcher.encode(texts) for texts in calls))
    finally:
        await batcher.close()


def test_concurrent_callers_each_get_their_own_vectors(encoder: OnnxEncoder) -> None:
    calls = [texts_for(caller, 1 + caller % 4) for caller in range(60)]
    batches = Batches()
    batcher = MicroBatcher(encoder.encode, max_texts=16, max_wait_s=0.005, observer=batches)
    results = asyncio.run(with_batcher(batcher, calls))
    for texts, vectors in zip(calls, results, strict=True):
        assert vectors.shape == (len(texts), encoder.dim)
        np.testing.assert_allclose(vectors, encoder.encode(texts), atol=1e-6)
    assert sum(batches.sizes) == sum(len(t) for t in calls)
    assert max(batches.sizes) > 4, batches.sizes  # calls really were encoded together
    assert max(batches.sizes) <= 16
    assert len(batches.sizes) < len(calls)


def test_a_call_larger_than_a_batch_runs_alone_and_whole(encoder: OnnxEncoder) -> None:
    big, small = texts_for(1, 12), texts_for(2, 2)
    batches = Batches()
    batcher = MicroBatcher(encoder.encode, max_texts=8, max_wait_s=0.001, observer=batches)
    got_big, got_small = asyncio.run(with_batcher(batcher, [big, small]))
    np.testing.assert_allclose(got_big, encoder.encode(big), atol=1e-6)
    np.testing.assert_allclose(got_small, encoder.encode(small), atol=1e-6)
    assert sorted(batches.sizes) == [2, 12]


def test_two_workers_share_the_queue(encoder: OnnxEncoder) -> None:
    calls = [texts_for(caller, 2) for caller in range(20)]
    batcher = MicroBatcher(encoder.encode, max_texts=4, max_wait_s=0.001, workers=2)
    for texts, vectors in zip(calls, asyncio.run(with_batcher(batcher, calls)), strict=True):
        np.testing.assert_allclose(vectors, encoder.encode(texts), atol=1e-6)


def test_the_event_loop_keeps_running_during_inference(encoder: OnnxEncoder) -> None:
    long_texts = [" ".join(f"word{j} of text {i}" for j in range(60)) for i in range(80)]

    async def scenario() -> int:
        batcher = MicroBatcher(encoder.encode, max_texts=80, max_wait_s=0)
        await batcher.start()
        ticks = 0
        job = asyncio.create_task(batcher.encode(long_texts))
        while not job.done():
            await asyncio.sleep(0.005)
            ticks += 1
        await batcher.close()
        return ticks

    assert asyncio.run(scenario()) >= 10  # ~0.3 s of inference; a blocked loop would tick once


def test_a_full_queue_refuses_more(encoder: OnnxEncoder) -> None:
    async def scenario() -> None:
        batcher = MicroBatcher(encoder.encode, max_texts=4, max_wait_s=0, max_queued=3)
        waiting = asyncio.create_task(batcher.encode(["a", "b"]))  # no worker started: it waits
        await asyncio.sleep(0)
        assert batcher.queued == 2
        with pytest.raises(QueueFullError):
            await batcher.encode(["c", "d"])
        waiting.cancel()
        await batcher.close()

    asyncio.run(scenario())


def test_an_encoder_failure_fails_only_its_own_caller_and_the_worker_goes_on(
    encoder: OnnxEncoder,
) -> None:
    def fragile(texts: list[str]) -> np.ndarray:
        if "secret boom" in texts:
            raise ValueError(f"cannot encode {texts}")
        return encoder.encode(texts)

    async def scenario() -> None:
        batcher = MicroBatcher(fragile, max_texts=8, max_wait_s=0.01)
        await batcher.start()
        bad, good = await asyncio.gather(
            batcher.encode(["secret boom"]), batcher.encode(["fine"]), return_exceptions=True
        )
        assert isinstance(bad, EncoderError)
        assert str(bad) == "encoder failed on 1 texts: ValueError"  # no text in the message
        np.testing.assert_allclose(good, encoder.encode(["fine"]), atol=1e-6)
        np.testing.assert_allclose(await batcher.encode(["next"]), encoder.encode(["next"]), atol=1e-6)
        await batcher.close()

    asyncio.run(scenario())
