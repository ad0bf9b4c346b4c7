"""The service's own figures for the dashboard page, read from its Prometheus collectors."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client.samples import Sample

from vibeshelf.serve.metrics import Metrics

REQUESTS = "vibeshelf_http_request_duration_seconds"
STAGES = "vibeshelf_recommend_stage_seconds"
CANDIDATES = "vibeshelf_recommend_candidates_total"
RELAXATIONS = "vibeshelf_recommend_rule_relaxations_total"
FIRST_STAGE = "retrieve"  # every two-stage answer runs it once


@dataclass(frozen=True)
class Timing:
    """One route's or stage's count since start, throughput and latency quantiles."""

    name: str
    count: int
    per_second: float
    p50_ms: float
    p95_ms: float


@dataclass(frozen=True)
class ServiceFigures:
    """Everything the page draws: latency per route, two-stage stages, candidates per source."""

    uptime_s: float
    routes: list[Timing]
    stages: list[Timing]
    candidates: dict[str, float]
    relaxations: float

    @property
    def answers(self) -> int:
        """Two-stage answers since start."""
        return next((s.count for s in self.stages if s.name == FIRST_STAGE), 0)


def quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' histogram_quantile over cumulative (upper bound, count) buckets: linear within
    the bucket that holds the rank; the highest finite bound when the rank is in the +Inf one."""
    ordered = sorted(buckets)
    total = ordered[-1][1]
    rank = q * total
    lower, below = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * (rank - below) / (count - below or 1.0)
        lower, below = bound, count
    return lower


def timings(samples: Iterable[Sample], histogram: str, label: str, seconds: float) -> list[Timing]:
    """Per value of `label` (summed over the others), in the order first observed: count, rate
    over `seconds`, p50 and p95."""
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for sample in samples:
        if sample.name == f"{histogram}_bucket":
            buckets[sample.labels[label]][float(sample.labels["le"])] += sample.value
    rows = []
    for name, by_bound in buckets.items():
        cumulative = list(by_bound.items())
        count = int(max(by_bound.values(), default=0))
        if count:
            rows.append(Timing(
                name, count, count / seconds,
                1000 * quantile(0.5, cumulative), 1000 * quantile(0.95, cumulative),
            ))
    return rows


def service_figures(metrics: Metrics, now: float | None = None) -> ServiceFigures:
    """The figures of this process, or of every worker in multiprocess mode, since start."""
    samples = [s for family in metrics.readable().collect() for s in family.samples]
    uptime = max(1e-3, (now or time.time()) - metrics.started)
    candidates: dict[str, float] = defaultdict(float)
    relaxations = 0.0
    for sample in samples:
        if sample.name == CANDIDATES:
            candidates[sample.labels["source"]] += sample.value
        elif sample.name == RELAXATIONS:
            relaxations += sample.value
    return ServiceFigures(
        uptime_s=uptime,
        routes=sorted(timings(samples, REQUESTS, "route", uptime), key=lambda t: (-t.count, t.name)),
        stages=timings(samples, STAGES, "stage", uptime),  # in the pipeline's order
        candidates=dict(sorted(candidates.items(), key=lambda kv: -kv[1])),
        relaxations=relaxations,
    )
