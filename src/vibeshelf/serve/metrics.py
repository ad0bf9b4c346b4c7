"""Prometheus metrics at /metrics: requests, latency, errors, batches, cache hits, encode protocols,
experiment versions, the analytics queue."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
)
from prometheus_client.exposition import generate_latest
from starlette.types import Message, Receive, Scope, Send

from vibeshelf.serve.http_middleware import HttpMiddleware

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)
# Set (by `vibeshelf serve --workers N`) before prometheus_client is imported, the worker
# processes write their counts to files in this dir and /metrics reads them all.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True)
class CacheCounters:
    """A cache's lookups by layer and result, and its failures by layer."""

    lookups: Counter
    errors: Counter

    def cache_lookup(self, layer: str, hits: int, misses: int) -> None:
        self.lookups.labels(layer, "hit").inc(hits)
        self.lookups.labels(layer, "miss").inc(misses)

    def cache_error(self, layer: str) -> None:
        self.errors.labels(layer).inc()


class Metrics:
    """The service's collectors, on a registry of its own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.started = time.time()
        r = self.registry
        self.requests = Counter(
            "vibeshelf_http_requests", "HTTP requests", ["method", "route", "code"], registry=r
        )
        self.latency = Histogram(
            "vibeshelf_http_request_duration_seconds", "HTTP request latency",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.errors = Counter(
            "vibeshelf_http_errors", "HTTP responses with a 4xx or 5xx code", ["code"], registry=r
        )
        self.batch_texts = Histogram(
            "vibeshelf_encode_batch_texts", "Texts per encoder run (micro-batch size)",
            buckets=BATCH_BUCKETS, registry=r,
        )
        self.batch_seconds = Histogram(
            "vibeshelf_encode_batch_seconds", "Time of one encoder run",
            buckets=LATENCY_BUCKETS, registry=r,
        )
        self.encode_cache = CacheCounters(
            Counter(
                "vibeshelf_encode_cache_lookups", "Vector cache lookups by layer and result",
                ["layer", "result"], registry=r,
            ),
            Counter(
                "vibeshelf_encode_cache_errors", "Vector cache failures (the request goes on)",
                ["layer"], registry=r,
            ),
        )
        self.recommend_cache = CacheCounters(
            Counter(
                "vibeshelf_recommend_cache_lookups",
                "Recommendation cache lookups by layer and result", ["layer", "result"], registry=r,
            ),
            Counter(
                "vibeshelf_recommend_cache_errors",
                "Recommendation cache failures (the request goes on)", ["layer"], registry=r,
            ),
        )
        self.encode_requests = Counter(
            "vibeshelf_encode_requests", "Encode requests answered, by protocol (encode, openai, tei)",
            ["protocol"], registry=r,
        )
        self.encode_texts = Counter(
            "vibeshelf_encode_texts", "Texts encoded or answered from the cache, by protocol",
            ["protocol"], registry=r,
        )

        self.version_requests = Counter(
            "vibeshelf_experiment_requests", "Requests served per experiment version",
            ["surface", "version"], registry=r,
        )
        self.version_latency = Histogram(
            "vibeshelf_experiment_request_duration_seconds", "Service time per experiment version",
            ["surface", "version"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.version_impressions = Counter(
            "vibeshelf_experiment_impressions", "Result lists shown per experiment version",
            ["surface", "version"], registry=r,
        )
        self.version_clicks = Counter(
            "vibeshelf_experiment_clicks", "Click feedback per experiment version",
            ["surface", "version"], registry=r,
        )
        self.stage_seconds = Histogram(
            "vibeshelf_recommend_stage_seconds", "Time of each two-stage pipeline stage",
            ["stage"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.candidates = Counter(
            "vibeshelf_recommend_candidates", "Two-stage candidates proposed, by source",
            ["source"], registry=r,
        )
        self.relaxations = Counter(
            "vibeshelf_recommend_rule_relaxations",
            "Business rules relaxed because the candidates could not meet them", registry=r,
        )
        self.version_weight = Gauge(
            "vibeshelf_experiment_weight", "Traffic share (percent) of each version of a surface",
            ["surface", "version"], registry=r, multiprocess_mode="livemostrecent",
        )

        self.analytics_drops = Counter(
            "vibeshelf_analytics_dropped", "Analytics events dropped: queue full, store or broker down",
            ["reason"], registry=r,
        )
        self.analytics_writes = Counter(
            "vibeshelf_analytics_written", "Analytics events written to the store or the broker",
            registry=r,
        )
        self.analytics_queue = Gauge(
            "vibeshelf_analytics_queue_depth", "Analytics events waiting in this worker's queue",
            registry=r, multiprocess_mode="livesum",
        )

    def analytics_dropped(self, reason: str, events: int) -> None:
        self.analytics_drops.labels(reason).inc(events)

    def analytics_written(self, events: int) -> None:
        self.analytics_writes.inc(events)

    def analytics_depth(self, depth: int) -> None:
        self.analytics_queue.set(depth)

    def pipeline_ran(
        self, timings_ms: dict[str, float], counts: dict[str, int], relaxations: int
    ) -> None:
        """One two-stage answer: each stage's time, the candidates per source, rule relaxations."""
        for stage, ms in timings_ms.items():
            self.stage_seconds.labels(stage).observe(ms / 1000)
        for name, count in counts.items():
            if name.startswith("source_"):
                self.candidates.labels(name.removeprefix("source_")).inc(count)
        self.relaxations.inc(relaxations)

    def version_served(self, surface: str, version: str, results: int, seconds: float) -> None:
        self.version_requests.labels(surface, version).inc()
        self.version_latency.labels(surface, version).observe(seconds)
        if results:
            self.version_impressions.labels(surface, version).inc()

    def version_clicked(self, surface: str, version: str) -> None:
        self.version_clicks.labels(surface, version).inc()

    def version_weights(self, surface: str, weights: Mapping[str, float]) -> None:
        for version, weight in weights.items():
            self.version_weight.labels(surface, version).set(weight)

    def request(self, method: str, route: str, code: int, seconds: float) -> None:
        self.requests.labels(method, route, str(code)).inc()
        self.latency.labels(method, route).observe(seconds)
        if code >= 400:
            self.errors.labels(str(code)).inc()

    def batch_encoded(self, texts: int, seconds: float) -> None:
        self.batch_texts.observe(texts)
        self.batch_seconds.observe(seconds)

    def cache_lookup(self, layer: str, hits: int, misses: int) -> None:
        self.encode_cache.cache_lookup(layer, hits, misses)

    def cache_error(self, layer: str) -> None:
        self.encode_cache.cache_error(layer)

    def texts_encoded(self, protocol: str, texts: int) -> None:
        self.encode_requests.labels(protocol).inc()
        self.encode_texts.labels(protocol).inc(texts)

    def readable(self) -> CollectorRegistry:
        """This app's counts, or every worker's in multiprocess mode."""
        if not os.environ.get(MULTIPROC_ENV):
            return self.registry
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry

    def exposition(self) -> bytes:
        """The text format of `readable()`."""
        return generate_latest(self.readable())


@dataclass(eq=False)
class MetricsMiddleware(HttpMiddleware):
    """ASGI middleware counting every HTTP request by method, route template and status code."""

    metrics: Metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.request(scope["method"], route, status, time.perf_counter() - started)


def install_metrics(app: FastAPI, metrics: Metrics) -> None:
    """Counts every request of `app` into `metrics` and serves the figures at GET /metrics."""
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    def prometheus(request: Request) -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
