"""Monitoring end to end: a server with a real ALS model, a real LightGBM ranker and an experiment
over both pipelines, under a little load; a real Prometheus scraping it evaluates every Grafana
panel's PromQL from deploy/grafana/dashboards/*.json; the dashboard page in headless Chromium
draws the same service figures from the process's own metrics."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from playwright.sync_api import Page, sync_playwright

from tests.conftest import BACKEND, REPO, Server, free_port, run_cli, running
from tests.e2e.test_browser import ARGS, CHROMIUM
from tests.prometheus_server import prometheus, query, scraped
from vibeshelf.recommend.artifacts import load_model, recs_root
from vibeshelf.recommend.twostage.candidates import ALS, ITEM_ITEM
from vibeshelf.settings import Settings

DASHBOARDS = REPO / "deploy" / "grafana" / "dashboards"
STAGES = {"retrieve", "features", "rank", "boosts", "rules"}
# A low impressions minimum so the bandit may move weights within the test.
ENV = {"VIBESHELF_EXPERIMENT__MIN_IMPRESSIONS": "5", "VIBESHELF_EXPERIMENT__SEED": "3"}


@dataclass
class Monitored:
    """The running server and readers the model knows (each asked once: no answer-cache hits)."""

    server: Server
    readers: list[str]

    def recommend(self, user: str) -> dict:  # type: ignore[type-arg]
        response = httpx.post(f"{self.server.url}/api/recommend", json={"user_id": user, "cutoff": 10},
                              headers=BACKEND, timeout=30)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def search_and_click(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=30) as reader:
            rid = reader.get("/api/search", params={"q": "cozy village mystery"}).json()["request_id"]
            reader.post("/api/feedback", json={"request_id": rid, "position": 1, "event": "click"})
            assert reader.get("/api/search").status_code == 422  # no q: the error panel's figure


@pytest.fixture(scope="module")
def monitored(sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitored]:
    data_dir = tmp_path_factory.mktemp("monitoring") / "data"
    shutil.copytree(sample_data_dir, data_dir, ignore=shutil.ignore_patterns("logs"))
    run_cli("train", "recs", "--factors", "16", "--no-eval", data_dir=data_dir)
    run_cli("train", "ranker", "--train-readers", "100", "--eval-readers", "50", data_dir=data_dir)
    for args in (("models", "add", "s-base", "--surface", "search"),
                 ("models", "add", "r-als", "--surface", "recommend"),
                 ("models", "add", "r-two-stage", "--surface", "recommend", "--pipeline", "two-stage"),
                 ("models", "activate", "s-base"), ("models", "activate", "r-als"),
                 ("models", "activate", "r-two-stage"),
                 ("experiments", "pin", "r-two-stage", "--weight", "50")):
        run_cli(*args, data_dir=data_dir, env=ENV)
    model = load_model(recs_root(Settings(data_dir=data_dir)))
    known = [model.users[i] for i in np.flatnonzero(np.diff(model.seen.indptr) >= 5)]
    with running(Server(data_dir, free_port(), env=ENV)) as server:
        yield Monitored(server, known)


def panel_queries() -> list[str]:
    """Every target's PromQL of every dashboard, Grafana's rate window set to one minute."""
    exprs = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            exprs += [t["expr"].replace("$__rate_interval", "1m") for t in panel["targets"]]
    return exprs


def test_every_grafana_panel_query_returns_data(monitored: Monitored, tmp_path: Path) -> None:
    """Each panel, evaluated by a real Prometheus scraping the server under searches, feedback,
    encodes and recommendations of both pipelines, returns a number."""
    exprs = panel_queries()
    assert len(exprs) >= 18 and any("vibeshelf_recommend_stage_seconds" in e for e in exprs)
    readers = iter(monitored.readers[::2])
    pipelines = set()
    with prometheus([monitored.server.url.removeprefix("http://")], tmp_path) as prom:
        deadline = time.monotonic() + 90
        while scraped(prom, "vibeshelf") < 8 and time.monotonic() < deadline:
            monitored.search_and_click()
            for _ in range(3):
                pipelines.add(monitored.recommend(next(readers))["pipeline"])
            text = f"a quiet seaside mystery, take {time.monotonic()}"
            for _ in range(2):  # an encoder run, then a cache hit
                httpx.post(f"{monitored.server.url}/v1/encode", json={"texts": [text]},
                           headers=BACKEND, timeout=30).raise_for_status()
            time.sleep(0.5)
        empty = [e for e in exprs if not [r for r in query(prom, e) if r["value"][1] not in ("NaN", "+Inf")]]
    assert pipelines == {"als", "two-stage"}
    assert not empty, f"panels without data: {empty}"


def figures(page: Page, url: str) -> dict[str, dict[str, float]]:
    """The dashboard's service table rows: route, stage or source -> its numbers."""
    page.goto(url + "/experiments")
    page.wait_for_selector("#service")
    rows: dict[str, dict[str, float]] = {}
    for row in page.locator("#service tr[data-route], #service tr[data-stage], #service tr[data-source]").all():
        key = next(row.get_attribute(a) for a in ("data-route", "data-stage", "data-source")
                   if row.get_attribute(a) is not None)
        rows[key] = {c: float(row.locator(f".{c}").inner_text()) for c in ("count", "p50", "p95", "rate")
                     if row.locator(f".{c}").count()}
    return rows


@pytest.mark.browser
def test_the_dashboard_draws_the_service_figures(monitored: Monitored) -> None:
    """After searches and two-stage answers the page's counts grow by exactly what was asked,
    with p50 <= p95 per route and stage, candidates per source and a bar per figure."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        before = figures(page, monitored.server.url)
        searches = 4
        for _ in range(searches):
            monitored.search_and_click()
        answers = [monitored.recommend(r) for r in monitored.readers[1::2][:12]]
        two_stage = sum(a["pipeline"] == "two-stage" for a in answers)
        assert two_stage >= 2
        after = figures(page, monitored.server.url)
        count = lambda rows, key: rows.get(key, {}).get("count", 0)
        assert count(after, "/api/search") - count(before, "/api/search") == 2 * searches
        assert count(after, "/api/recommend") - count(before, "/api/recommend") == len(answers)
        for stage in STAGES:
            assert count(after, stage) - count(before, stage) == two_stage
            assert 0 < after[stage]["p50"] <= after[stage]["p95"]
        for route in ("/api/search", "/api/recommend"):
            assert 0 < after[route]["p50"] <= after[route]["p95"] and after[route]["rate"] > 0
        for source in (ALS, ITEM_ITEM):
            assert count(after, source) > count(before, source)
        routes = page.locator("#service tr[data-route]").count()
        assert page.locator("svg.chart-routes rect.bar").count() == 2 * routes
        assert page.locator("svg.chart-stages rect.bar").count() == 2 * len(STAGES)
        assert page.locator("svg.chart-candidates rect.bar").count() == page.locator(
            "#service tr[data-source]").count()
        assert page.locator("svg.chart").count() >= 6  # beside the experiment charts
        browser.close()
