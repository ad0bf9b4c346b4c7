"""Micro-batching: concurrent encode calls are gathered into shared encoder runs in worker threads."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import KW_ONLY, dataclass, field
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)


class QueueFullError(RuntimeError):
    """More texts are waiting than the batcher accepts; the caller should retry later."""


class EncoderError(RuntimeError):
    """The encoder failed on a batch; the message names the error type only, never the texts."""


class BatchObserver(Protocol):
    def batch_encoded(self, texts: int, seconds: float) -> None: ...


@dataclass
class _Job:
    texts: Sequence[str]
    future: asyncio.Future[np.ndarray]


@dataclass(eq=False)
class MicroBatcher:
    """Collects encode calls for up to `max_wait_s` or `max_texts` texts, encodes them together.

    Each of `workers` tasks takes what is queued, waits `max_wait_s` for more when the batch is not
    full, runs `run_encoder` on all of it in a thread of its own (the event loop never blocks on
    inference) and hands every caller its own rows. Calls arriving during a run queue up for the
    next one, so batches grow with load. A call larger than `max_texts` runs as a batch alone.
    When a run fails, its calls are retried one by one, so a bad call fails no other caller.
    """

    run_encoder: Callable[[list[str]], np.ndarray]
    _: KW_ONLY
    max_texts: int
    max_wait_s: float
    workers: int = 1
    max_queued: int = 8192
    observer: BatchObserver | None = None
    _queue: asyncio.Queue[_Job] = field(default_factory=asyncio.Queue, init=False)
    _queued: int = field(default=0, init=False)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list, init=False)
    _executor: ThreadPoolExecutor | None = field(default=None, init=False)

    @property
    def queued(self) -> int:
        """Texts waiting for an encoder run."""
        return self._queued

    async def start(self) -> None:
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="encode")
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]

    async def close(self) -> None:
        """Stops the workers; calls still waiting fail with CancelledError."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        while not self._queue.empty():
            self._queue.get_nowait().future.cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    async def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for `texts`, in order, computed in a batch shared with concurrent calls."""
        if self._queued + len(texts) > self.max_queued:
            raise QueueFullError(f"{self._queued} texts already waiting to be encoded")
        job = _Job(texts, asyncio.get_running_loop().create_future())
        self._queue.put_nowait(job)
        self._queued += len(texts)
        return await job.future

    async def _work(self) -> None:
        carry: _Job | None = None
        while True:
            batch, carry = await self._collect(carry)
            self._queued -= sum(len(job.texts) for job in batch)
            batch = [job for job in batch if not job.future.done()]  # callers that went away
            error = await self._run(batch)
            if error is None:
                continue
            for job in batch:  # one failing call must not fail its batch-mates: each runs alone
                alone = error if len(batch) == 1 else await self._run([job])
                if alone is not None:
                    log.error("%s", alone)
                    if not job.future.done():
                        job.future.set_exception(alone)

    async def _run(self, jobs: list[_Job]) -> EncoderError | None:
        """Encodes `jobs` in one run and hands each its rows; the error when the encoder failed."""
        texts = [text for job in jobs for text in job.texts]
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        try:
            vectors = await loop.run_in_executor(self._executor, self.run_encoder, texts)
        except Exception as exc:  # noqa: BLE001 - any failure goes to the callers; the worker goes on
            return EncoderError(f"encoder failed on {len(texts)} texts: {type(exc).__name__}")
        if self.observer is not None:
            self.observer.batch_encoded(len(texts), time.perf_counter() - started)
        row = 0
        for job in jobs:
            if not job.future.done():
                job.future.set_result(vectors[row : row + len(job.texts)])
            row += len(job.texts)
        return None

    async def _collect(self, carry: _Job | None) -> tuple[list[_Job], _Job | None]:
        """The next batch, and a job that did not fit in it."""
        batch = [carry or await self._queue.get()]
        size = len(batch[0].texts)
        waited = False
        while size < self.max_texts:
            if self._queue.empty():
                if waited or not self.max_wait_s:
                    break
                await asyncio.sleep(self.max_wait_s)
                waited = True
                continue
            job = self._queue.get_nowait()
            if size + len(job.texts) > self.max_texts:
                return batch, job
            batch.append(job)
            size += len(job.texts)
        return batch, None
