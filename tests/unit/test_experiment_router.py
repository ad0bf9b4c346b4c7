"""The per-worker router: versions loaded once, registry changes picked up, retired ones closed."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pytest

from vibeshelf.analytics.backends import open_analytics_store
from vibeshelf.analytics.events import Event, FeedbackEvent, ServedEvent
from vibeshelf.analytics.events import now as now_ts
from vibeshelf.config.experiment import ExperimentSettings
from vibeshelf.experiment.feedback.events import Feedback
from vibeshelf.experiment.feedback.factory import open_feedback
from vibeshelf.experiment.registry import ModelVersion, RegistryFile, now
from vibeshelf.experiment.router import ExperimentRouter
from vibeshelf.serve.experiments import LOOK_SECONDS, LiveExperiments, periodic_updates

SETTINGS = ExperimentSettings(min_impressions=0, seed=1)


class FakeService:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False

    def close(self) -> None:
        self.closed = True


class RecordingMetrics:
    def __init__(self) -> None:
        self.served: Counter[str] = Counter()
        self.clicks: Counter[str] = Counter()
        self.weights: dict[str, float] = {}

    def version_served(self, surface: str, version: str, results: int, seconds: float) -> None:
        self.served[version] += 1

    def version_clicked(self, surface: str, version: str) -> None:
        self.clicks[version] += 1

    def version_weights(self, surface: str, weights: Mapping[str, float]) -> None:
        self.weights.update(weights)


@pytest.fixture
def registry_file(tmp_path: Path) -> RegistryFile:
    return activate_versions(RegistryFile(tmp_path / "experiments"))


def activate_versions(rf: RegistryFile) -> RegistryFile:
    """Versions a and b (weights 51/49) and broken (which cannot load) on the search surface."""
    with rf.edit("activate") as reg:
        for name in ("a", "b", "broken"):
            reg.add(ModelVersion(name=name, surface="search", created=now(), data_checksum="x", target={}))
            reg.activate(name, SETTINGS.floor, SETTINGS.ceiling)
        reg.set_weight(reg.get("b"), 49.0, SETTINGS.floor, SETTINGS.ceiling)
    return rf


def make_router(registry_file: RegistryFile, loads: Counter[str]) -> ExperimentRouter:
    def load(version: ModelVersion) -> FakeService | None:
        loads[version.name] += 1
        return None if version.name == "broken" else FakeService(version.name)

    store = open_feedback("sqlite://", registry_file.directory)
    rollup = open_analytics_store("sqlite://", registry_file.directory)
    return ExperimentRouter(
        registry_file, store, rollup, SETTINGS, {"search": load}, RecordingMetrics()
    )


def test_versions_load_once_and_unloadable_ones_get_no_traffic(registry_file: RegistryFile) -> None:
    loads: Counter[str] = Counter()
    router = make_router(registry_file, loads)
    picked = Counter(router.pick("search", f"reader-{i}")[0] for i in range(2_000))
    assert set(picked) == {"a", "b"} and 0.4 < picked["b"] / 2_000 < 0.6
    assert loads == {"a": 1, "b": 1, "broken": 1}
    assert not router.serves("recommend")
    router.close()


def test_registry_changes_reach_the_router_and_retired_versions_close(
    registry_file: RegistryFile,
) -> None:
    loads: Counter[str] = Counter()
    router = make_router(registry_file, loads)
    service_a = next(s for n, s in (router.pick("search", f"r{i}") for i in range(100)) if n == "a")
    with registry_file.edit("retire") as reg:
        reg.retire("a", SETTINGS.floor, SETTINGS.ceiling)
    assert {router.pick("search", f"r{i}")[0] for i in range(300)} == {"b"}
    assert service_a.closed and loads["a"] == 1
    assert router.metrics.weights == {"a": 0.0, **registry_file.read().weights("search")}  # type: ignore[attr-defined]
    assert router.metrics.weights["b"] > 50.0  # type: ignore[attr-defined]
    router.close()


def test_feedback_and_bandit_update_through_the_router(registry_file: RegistryFile) -> None:
    router = make_router(registry_file, Counter())
    analytics: list[Event] = []  # what the serving app hands its analytics sink
    for i in range(30):
        name, _ = router.pick("search", f"reader-{i}")
        router.served("search", name, f"req-{i}", 10, 0.001, f"session-{i}")
        analytics.append(ServedEvent(f"req-{i}", "search", name, ("x",) * 10, 1.0, now_ts()))
        if name == "b":
            click = Feedback(request_id=f"req-{i}", position=1, event="click")
            served = router.feedback(click, f"session-{i}")
            analytics.append(FeedbackEvent(
                f"req-{i}", "search", served.version, 1, "click", None, served.day, now_ts()
            ))
    assert router.metrics.clicks["b"] > 0 and router.metrics.clicks["a"] == 0  # type: ignore[attr-defined]
    router.rollup.write(analytics)
    weights = router.update()["search"]
    assert weights["b"] > 49.0 and sum(weights.values()) == pytest.approx(100.0)
    assert registry_file.history("search")[-1]["reason"] == "bandit"
    router.close()


def test_periodic_updates_run_only_when_enabled() -> None:
    class Counting:
        calls = 0

        def update(self) -> None:
            Counting.calls += 1

    async def run(seconds: float) -> None:
        async with periodic_updates(Counting().update, seconds):
            await asyncio.sleep(0.25)

    asyncio.run(run(0))
    assert Counting.calls == 0
    asyncio.run(run(0.05))
    assert Counting.calls >= 2


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_registry_made_later_is_loaded_once_on_a_request_after_it_appears(tmp_path: Path) -> None:
    registry_file = RegistryFile(tmp_path / "experiments")
    loads: list[ExperimentRouter] = []

    def load() -> ExperimentRouter | None:
        if registry_file.exists():
            loads.append(make_router(registry_file, Counter()))
            return loads[-1]
        return None

    clock = Clock()
    live = LiveExperiments(registry_file, load, clock)
    assert live.current() is None
    activate_versions(registry_file)
    assert live.current() is None and not loads  # no second look within LOOK_SECONDS
    clock.now += LOOK_SECONDS
    requests = [threading.Thread(target=live.current) for _ in range(8)]
    for request in requests:
        request.start()
    for request in requests:
        request.join()
    assert len(loads) == 1 and live.current() is loads[0]
    live.close()
