"""Everything a serving process holds, built in one place from Settings and closed in reverse."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

from vibeshelf.analytics.pipeline import start_sink
from vibeshelf.analytics.sink import QueueSink
from vibeshelf.embed.encoder import Encoder, load_encoder
from vibeshelf.experiment.registry import RegistryFile
from vibeshelf.recommend.service import RecommendService
from vibeshelf.serve.auth import Authenticator
from vibeshelf.serve.encode_core import EncodeApi, serving_encode_api
from vibeshelf.serve.experiments import LiveExperiments, load_experiments, periodic_updates
from vibeshelf.serve.metrics import Metrics
from vibeshelf.serve.recommender import CoReaders, load_recommender
from vibeshelf.serve.runtime import Runtime, limit_blas_threads
from vibeshelf.serve.sessions import SessionSigner, session_secret
from vibeshelf.settings import Settings

Part = Literal["search", "recommend", "encode"]
PARTS: dict[str, frozenset[Part]] = {
    "search": frozenset({"search"}),
    "encode": frozenset({"encode"}),
    "all": frozenset({"search", "encode"}),
}


@dataclass
class Services:
    """What the routes of one app reach (through serve.deps); a part is None until loaded, and
    stays None where the app does not serve it or (the recommender) nothing can be loaded.

    `parts`: "search" is the search runtime with the recommender over its index, the experiments
    and the reader sessions; "recommend" the recommender alone; "encode" the embedding service.
    """

    settings: Settings
    parts: frozenset[Part]
    authenticator: Authenticator
    metrics: Metrics = field(default_factory=Metrics)
    sessions: SessionSigner | None = None
    runtime: Runtime | None = None
    recommender: RecommendService | None = None
    experiments: LiveExperiments | None = None
    analytics: QueueSink | None = None
    encode: EncodeApi | None = None

    @classmethod
    def for_settings(cls, settings: Settings, parts: frozenset[Part]) -> Services:
        """The parts made with the app, which check their settings at once (auth, the session
        secret); `loaded` makes the rest."""
        authenticator = Authenticator(settings.auth)
        sessions = SessionSigner(session_secret(settings)) if "search" in parts else None
        return cls(settings, parts, authenticator, sessions=sessions)

    @asynccontextmanager
    async def loaded(
        self, runtime: Runtime | None = None, encoder: Encoder | None = None
    ) -> AsyncIterator[Services]:
        """Load the parts served (`runtime` and `encoder` when given instead) for as long as the
        block runs; then close them, the last loaded first."""
        settings = self.settings
        async with AsyncExitStack() as stack:
            if self.parts & {"search", "recommend"} and settings.analytics.enabled:
                self.analytics = start_sink(settings, self.metrics)
                stack.callback(self.analytics.close)  # closed last: drains what was accepted
            if "search" in self.parts:
                self.runtime = runtime or Runtime.load(settings)
                stack.callback(self.runtime.close)
            elif "recommend" in self.parts:
                limit_blas_threads(settings.serve.blas_threads)
            if self.parts & {"search", "recommend"}:
                store = self.runtime.store if self.runtime is not None else None
                self.recommender = load_recommender(
                    settings, store, cache_observer=self.metrics.recommend_cache,
                    pipeline_observer=self.metrics,
                )
                if self.recommender is not None:
                    stack.callback(self.recommender.close)
                    if self.runtime is not None:
                        self.runtime.search.co_readers = CoReaders(self.recommender)
            if self.runtime is not None:
                self.experiments = LiveExperiments(
                    RegistryFile(settings.experiments_dir),
                    partial(load_experiments, settings, self.runtime, self.metrics),
                )
                stack.callback(self.experiments.close)
                await stack.enter_async_context(
                    periodic_updates(self.experiments.update, settings.experiment.update_seconds)
                )
            if "encode" in self.parts:
                shared = self.runtime.encoder if self.runtime is not None else encoder
                self.encode = await stack.enter_async_context(serving_encode_api(
                    settings, shared or load_encoder(settings.model, settings.models_dir), self.metrics
                ))
            yield self
