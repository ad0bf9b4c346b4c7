"""The dashboard page's service figures: histogram quantiles as Prometheus computes them, and
counts, rates and candidates read back from a Metrics' own collectors."""

from __future__ import annotations

import math

import pytest

from vibeshelf.serve.metrics import Metrics
from vibeshelf.serve.service_charts import count_chart, latency_chart
from vibeshelf.serve.service_figures import quantile, service_figures


def test_quantile_interpolates_within_the_bucket_that_holds_the_rank() -> None:
    buckets = [(0.001, 0.0), (0.01, 10.0), (0.1, 20.0), (math.inf, 20.0)]
    assert quantile(0.5, buckets) == pytest.approx(0.01)
    assert quantile(0.25, buckets) == pytest.approx(0.001 + 0.009 * 5 / 10)
    assert quantile(0.95, buckets) == pytest.approx(0.01 + 0.09 * 9 / 10)


def test_a_rank_in_the_infinite_bucket_is_the_highest_finite_bound() -> None:
    assert quantile(0.95, [(0.5, 1.0), (1.0, 2.0), (math.inf, 10.0)]) == 1.0


def test_figures_count_requests_stages_and_candidates_of_the_process() -> None:
    metrics = Metrics()
    for seconds in (0.002, 0.002, 0.002, 0.2):
        metrics.request("POST", "/api/recommend", 200, seconds)
    metrics.request("GET", "/api/search", 422, 0.004)
    metrics.request("GET", "/api/search", 200, 0.004)
    timings = {"retrieve": 3.0, "features": 1.0, "rank": 2.0, "boosts": 0.1, "rules": 0.1}
    for _ in range(3):
        metrics.pipeline_ran(timings, {"source_als": 100, "source_item_item": 40, "candidates": 120}, 1)
    figures = service_figures(metrics, now=metrics.started + 10)
    routes = {r.name: r for r in figures.routes}
    assert [r.name for r in figures.routes] == ["/api/recommend", "/api/search"]
    assert routes["/api/recommend"].count == 4 and routes["/api/search"].count == 2
    assert routes["/api/recommend"].per_second == pytest.approx(0.4)
    recommend = routes["/api/recommend"]
    assert recommend.p50_ms == pytest.approx(2.0)  # 3 of 4 in (1, 2.5] ms: 1 + 1.5 * 2/3
    assert recommend.p95_ms == pytest.approx(220.0)  # the 4th in (100, 250] ms: 100 + 150 * 0.8
    assert figures.answers == 3 and [s.name for s in figures.stages] == list(timings)
    assert figures.candidates == {"als": 300.0, "item_item": 120.0}
    assert figures.relaxations == 3.0
    assert latency_chart("routes", "latency", figures.routes).count('class="bar"') == 4
    assert count_chart("candidates", "candidates", figures.candidates).count('class="bar"') == 2


def test_a_fresh_process_has_no_figures_and_draws_empty_charts() -> None:
    figures = service_figures(Metrics())
    assert figures.routes == [] and figures.stages == [] and figures.answers == 0
    assert 'class="bar"' not in latency_chart("stages", "stage time", figures.stages)
