"""End to end: two search and two recommendation versions served side by side by `vibeshelf serve`,
feedback flowing into the bandit, the weights moving, and the dashboard in headless Chromium."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import sync_playwright

from tests.conftest import REPO, Server, free_port, run_cli
from tests.e2e.test_browser import ARGS, CHROMIUM

SCREENSHOT = REPO / "docs" / "experiments.png"
# The server and the CLI share these: a low impressions minimum so a short test moves weights.
ENV = {"VIBESHELF_EXPERIMENT__MIN_IMPRESSIONS": "5", "VIBESHELF_EXPERIMENT__SEED": "3"}


class Experiment:
    """The running server plus the recs version dir each recommend version points at."""

    def __init__(self, server: Server, recs: dict[str, str]) -> None:
        self.server = server
        self.url = server.url
        self.recs = recs

    def cli(self, *args: str, check: bool = True) -> str:
        with pytest.MonkeyPatch.context() as env:
            for name, value in ENV.items():
                env.setenv(name, value)
            result = run_cli(*args, data_dir=self.server.data_dir, check=check)
        return result.stdout + result.stderr

    def search(self, session: str) -> httpx.Response:
        return httpx.get(f"{self.url}/api/search", params={"q": "cozy village mystery"},
                         headers={"X-Vibeshelf-Session": session}, timeout=30)

    def recommend(self, user: str) -> httpx.Response:
        return httpx.post(f"{self.url}/api/recommend", json={"user_id": user, "cutoff": 5}, timeout=30)

    def report(self) -> dict:  # type: ignore[type-arg]
        return httpx.get(f"{self.url}/api/experiments").json()["surfaces"]


@pytest.fixture(scope="module")
def experiment(sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Experiment]:
    data_dir = tmp_path_factory.mktemp("experiments") / "data"
    shutil.copytree(sample_data_dir, data_dir, ignore=shutil.ignore_patterns("logs"))
    recs_root = data_dir / "models" / "recs"
    trained = []
    for seed, factors in ((7, "16"), (8, "48")):
        run_cli("train", "recs", "--seed", str(seed), "--factors", factors, "--no-eval", data_dir=data_dir)
        trained.append((recs_root / "CURRENT").read_text().strip())
    setup = [
        ("models", "add", "s-base", "--surface", "search"),
        ("models", "add", "s-popular", "--surface", "search", "--candidates", "30",
         "--popularity-weight", "0.3", "--metric", "ndcg_at_10=0.21"),
        ("models", "add", "r-a", "--surface", "recommend", "--recs-version", trained[0]),
        ("models", "add", "r-b", "--surface", "recommend", "--recs-version", trained[1]),
        *[("models", "activate", n) for n in ("s-base", "s-popular", "r-a", "r-b")],
        ("experiments", "pin", "s-popular", "--weight", "50"),
        ("experiments", "pin", "s-popular", "--release"),
        ("experiments", "pin", "r-b", "--weight", "50"),
    ]
    for args in setup:
        run_cli(*args, data_dir=data_dir)
    with pytest.MonkeyPatch.context() as env:
        for name, value in ENV.items():
            env.setenv(name, value)
        server = Server(data_dir, free_port())
    try:
        server.wait_ready()
        yield Experiment(server, {"r-a": trained[0], "r-b": trained[1]})
    finally:
        server.stop()


def test_two_versions_of_each_surface_serve_side_by_side(experiment: Experiment) -> None:
    search = Counter()
    for i in range(40):
        resp = experiment.search(f"reader-{i}")
        assert resp.status_code == 200
        body = resp.json()
        assert resp.headers["x-vibeshelf-version"] == body["version"]
        search[body["version"]] += 1
        assert experiment.search(f"reader-{i}").json()["version"] == body["version"]  # sticky
    assert set(search) == {"s-base", "s-popular"} and min(search.values()) >= 8
    served = Counter()
    for i in range(40):
        body = experiment.recommend(f"user-{i}").json()
        assert body["model_version"] == experiment.recs[body["version"]]
        served[body["version"]] += 1
    assert set(served) == {"r-a", "r-b"}
    metrics = httpx.get(f"{experiment.url}/metrics").text
    assert f'vibeshelf_experiment_requests_total{{surface="recommend",version="r-b"}} {served["r-b"]}.0' in metrics


def test_feedback_is_validated(experiment: Experiment) -> None:
    rid = experiment.search("feedback-reader").json()["request_id"]
    post = lambda **body: httpx.post(f"{experiment.url}/api/feedback", json=body)
    first = post(request_id=rid, position=2, event="add_to_shelf")
    assert first.status_code == 201 and first.json()["surface"] == "search"
    assert post(request_id=rid, position=2, event="add_to_shelf").status_code == 409
    assert post(request_id="0" * 32, position=1, event="click").status_code == 404
    assert post(request_id=rid, position=1, event="like").status_code == 422
    missing = post(request_id=rid, position=400, event="click")
    assert missing.status_code == 404 and missing.json()["description"].startswith("request")


def test_clicks_move_traffic_to_the_clicked_version(experiment: Experiment) -> None:
    before = {v["name"]: v["weight"] for v in experiment.report()["search"]["versions"]}
    for i in range(40):
        body = experiment.search(f"clicker-{i}").json()
        if body["version"] == "s-popular":
            book = body["results"][0]["book_id"]
            go = httpx.get(f"{experiment.url}/go/{body['request_id']}/1", params={"book": book})
            assert go.status_code == 302 and go.headers["location"].startswith("https://")
    out = experiment.cli("experiments", "update")
    assert "search\t" in out
    search = experiment.report()["search"]
    after = {v["name"]: v["weight"] for v in search["versions"]}
    assert after["s-popular"] > before["s-popular"] and sum(after.values()) == pytest.approx(100)
    assert search["history"][-1]["reason"] == "bandit"
    popular = next(v for v in search["versions"] if v["name"] == "s-popular")
    assert popular["clicks"] >= 5 and popular["ctr_low"] <= popular["ctr"] <= popular["ctr_high"]
    recommend = {v["name"]: v["weight"] for v in experiment.report()["recommend"]["versions"]}
    assert recommend["r-b"] == 50.0  # pinned: the bandit leaves it alone
    routed = Counter(experiment.search(f"later-{i}").json()["version"] for i in range(40))
    assert routed["s-popular"] > routed["s-base"]


def test_dashboard_in_headless_chromium(experiment: Experiment) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        page.goto(experiment.url + "/experiments")
        assert page.locator("tr.version").count() == 4
        assert page.locator("#surface-search svg.chart").count() == 2
        assert page.locator("#surface-recommend svg.chart").count() == 2
        assert page.locator("#surface-search polyline").count() == 2
        weight = page.locator('tr[data-version="s-popular"] td.weight').inner_text()
        assert float(weight.rstrip("%")) > 50
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        page.goto(experiment.url + "/?q=cozy+village+mystery")  # results link through /go
        href = page.locator("#results a.book-link").first.get_attribute("href")
        assert href and href.startswith("/go/") and "?book=" in href
        assert any(c["name"] == "vibeshelf_session" for c in page.context.cookies())
        browser.close()


def test_traefik_export_has_the_current_weights(experiment: Experiment) -> None:
    config = yaml.safe_load(experiment.cli("experiments", "export", "--traefik"))
    services = config["http"]["services"]["vibeshelf-recommend"]["weighted"]["services"]
    assert {s["name"]: s["weight"] for s in services} == {
        "vibeshelf-recommend-r-a": 5000, "vibeshelf-recommend-r-b": 5000
    }


def test_a_retired_version_never_serves_again(experiment: Experiment) -> None:
    experiment.cli("models", "retire", "r-a")
    assert {experiment.recommend(f"user-{i}").json()["version"] for i in range(30)} == {"r-b"}
    refused = run_cli("models", "activate", "r-a", data_dir=experiment.server.data_dir, check=False)
    assert refused.returncode == 2 and "retired" in refused.stderr
