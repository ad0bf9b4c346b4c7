"""Traffic split and registry: sticky buckets, bounded weights summing to 100, activate/retire/pin."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from vibeshelf.experiment.registry import ModelVersion, Registry, RegistryError, RegistryFile, now
from vibeshelf.experiment.report import wilson
from vibeshelf.experiment.split import allocate, bucket, choose

FLOOR, CEILING = 1.0, 99.0


def version(name: str, surface: str = "search") -> ModelVersion:
    return ModelVersion(name=name, surface=surface, created=now(), data_checksum="c", target={})  # type: ignore[arg-type]


def registry(*names: str) -> Registry:
    reg = Registry()
    for name in names:
        reg.add(version(name))
        reg.activate(name, FLOOR, CEILING)
    return reg


def test_buckets_are_sticky_salted_and_uniform() -> None:
    assert bucket("s", "search", "reader-1") == bucket("s", "search", "reader-1")
    assert bucket("s", "search", "reader-1") != bucket("other", "search", "reader-1")
    tenths = Counter(int(bucket("s", "search", f"r{i}") // 10) for i in range(20_000))
    assert set(tenths) == set(range(10))
    assert all(1_800 < n < 2_200 for n in tenths.values())


def test_choose_follows_the_weights_and_skips_unloaded_versions() -> None:
    weights = {"a": 25.0, "b": 75.0}
    assert choose(weights, 0.0) == "a" and choose(weights, 24.99) == "a" and choose(weights, 25.0) == "b"
    picks = Counter(choose(weights, bucket("s", "search", str(i))) for i in range(10_000))
    assert 0.22 < picks["a"] / 10_000 < 0.28
    assert choose({"a": 0.0, "b": 75.0}, 10.0) == "b"
    with pytest.raises(LookupError):
        choose({"a": 0.0}, 1.0)


def test_allocate_clamps_and_sums_to_100() -> None:
    shares = {"a": 0.999, "b": 0.001, "c": 0.0}
    low = dict.fromkeys(shares, FLOOR)
    high = dict.fromkeys(shares, CEILING)
    weights = allocate(shares, low, high)
    assert sum(weights.values()) == pytest.approx(100.0, abs=1e-9)
    assert weights["b"] == FLOOR and weights["c"] == FLOOR and weights["a"] == 98.0
    proportional = allocate({"a": 0.3, "b": 0.7}, {"a": 1, "b": 1}, {"a": 99, "b": 99})
    assert proportional == {"a": 30.0, "b": 70.0}
    with pytest.raises(ValueError):
        allocate({"a": 1.0, "b": 1.0}, {"a": 60, "b": 60}, {"a": 99, "b": 99})


def test_a_new_version_starts_at_the_floor_and_the_first_gets_everything() -> None:
    reg = registry("a")
    assert reg.weights("search") == {"a": 100.0}
    reg.add(version("b"))
    assert reg.weights("search") == {"a": 100.0}  # registered, not serving yet
    reg.activate("b", FLOOR, CEILING)
    assert reg.weights("search") == {"a": 99.0, "b": 1.0}
    with pytest.raises(RegistryError, match="immutable"):
        reg.add(version("b"))


def test_retired_versions_get_zero_at_once_and_never_come_back() -> None:
    reg = registry("a", "b", "c")
    reg.retire("b", FLOOR, CEILING)
    assert reg.get("b").weight == 0.0 and "b" not in reg.weights("search")
    assert sum(reg.weights("search").values()) == pytest.approx(100.0)
    with pytest.raises(RegistryError):
        reg.activate("b", FLOOR, CEILING)
    reg.retire("c", FLOOR, CEILING)
    with pytest.raises(RegistryError, match="only active"):
        reg.retire("a", FLOOR, CEILING)


def test_pinned_weights_hold_while_others_share_the_rest() -> None:
    reg = registry("a", "b", "c")
    reg.set_weight(reg.get("b"), 40.0, FLOOR, CEILING)
    reg.get("b").pinned = True
    weights = reg.rebalance("search", {"a": 10.0, "b": 90.0, "c": 30.0}, FLOOR, CEILING)
    assert weights["b"] == 40.0
    assert weights["c"] == pytest.approx(3 * weights["a"], abs=0.02)
    with pytest.raises(RegistryError, match="floor"):
        reg.set_weight(reg.get("a"), 99.5, FLOOR, CEILING)


def test_registry_file_round_trips_and_keeps_a_weight_history(tmp_path: Path) -> None:
    rf = RegistryFile(tmp_path)
    assert not rf.exists() and rf.read().versions == []
    with rf.edit("activate") as reg:
        reg.add(version("a"))
        reg.add(version("r", "recommend"))
        reg.activate("a", FLOOR, CEILING)
    with rf.edit("activate") as reg:
        reg.add(version("b"))
        reg.activate("b", FLOOR, CEILING)
    assert rf.read().weights("search") == {"a": 99.0, "b": 1.0}
    history = rf.history("search")
    assert [h["new"] for h in history] == [{"a": 100.0}, {"a": 99.0, "b": 1.0}]
    assert history[1]["old"] == {"a": 100.0} and rf.history("recommend") == []
    with pytest.raises(RegistryError), rf.edit("retire") as reg:
        reg.retire("zzz", FLOOR, CEILING)
    assert len(rf.history()) == 2


def test_wilson_interval() -> None:
    low, high = wilson(10, 100)
    assert low == pytest.approx(0.0552, abs=1e-4) and high == pytest.approx(0.1744, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(0, 50)
    assert low == 0.0 and 0.05 < high < 0.08


@pytest.mark.parametrize(("clicks", "impressions"), [(n, n) for n in range(1, 60)] + [(0, 7), (3, 9)])
def test_wilson_interval_holds_the_observed_rate(clicks: int, impressions: int) -> None:
    low, high = wilson(clicks, impressions)
    assert low <= clicks / impressions <= high
