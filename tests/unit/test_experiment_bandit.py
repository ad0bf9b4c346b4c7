"""Thompson sampling on simulated readers: the better version wins, none starves, retired stays out.

Readers are routed by the real sticky split; version B's true CTR is 1.5x A's (6% vs 4%); every
500 impressions the bandit updates the weights. Stated result (also in docs/experiments.md): from 25,000
impressions on, B holds at least 80% of the traffic, for each of the seeds below. B starts at the
1% floor, so it needs about 20,000 impressions to reach min_impressions (200) before it may move,
then climbs at most max_step (10 points) per update.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vibeshelf.analytics.events import Counts
from vibeshelf.config.experiment import ExperimentSettings
from vibeshelf.experiment.bandit import best_shares, update
from vibeshelf.experiment.registry import ModelVersion, RegistryFile, now
from vibeshelf.experiment.split import bucket, choose

ROUND = 500
WINNER_BY = 25_000  # impressions after which B must hold >= 80% of the traffic
SETTINGS = ExperimentSettings(samples=4_000, min_impressions=200)


def start(tmp_path: Path, names: str = "AB") -> RegistryFile:
    rf = RegistryFile(tmp_path)
    with rf.edit("activate") as reg:
        for name in names:
            reg.add(ModelVersion(name=name, surface="search", created=now(), data_checksum="x", target={}))
            reg.activate(name, SETTINGS.floor, SETTINGS.ceiling)
    return rf


def simulate(
    rf: RegistryFile, ctr: dict[str, float], rounds: int, seed: int
) -> tuple[list[dict[str, float]], dict[str, list[int]]]:
    """Weights after each round of ROUND readers, and impressions/clicks per version."""
    readers, bandit = np.random.default_rng(seed), np.random.default_rng(seed + 1000)
    counts = {name: [0, 0] for name in ctr}
    weights_seen = []
    for rnd in range(rounds):
        weights = rf.read().weights("search")
        for i in range(ROUND):
            name = choose(weights, bucket("salt", "search", f"{seed}-{rnd}-{i}"))
            counts[name][0] += 1
            counts[name][1] += int(readers.random() < ctr[name])
        stats = {"search": {n: Counts(*c) for n, c in counts.items()}}
        weights_seen.append(update(rf, stats, SETTINGS, bandit)["search"])
    return weights_seen, counts


def test_best_shares_follow_the_evidence() -> None:
    rng = np.random.default_rng(0)
    clear = best_shares({"a": Counts(1000, 40), "b": Counts(1000, 80)}, 10_000, rng)
    assert clear["b"] > 0.99 and sum(clear.values()) == pytest.approx(1.0)
    unknown = best_shares({"a": Counts(), "b": Counts()}, 10_000, rng)
    assert 0.45 < unknown["a"] < 0.55


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_version_with_1_5x_the_ctr_gets_80_percent_of_traffic(tmp_path: Path, seed: int) -> None:
    rf = start(tmp_path)
    weights, counts = simulate(rf, {"A": 0.04, "B": 0.06}, rounds=2 * WINNER_BY // ROUND, seed=seed)
    after = weights[WINNER_BY // ROUND - 1 :]
    assert min(w["B"] for w in after) >= 80.0, [w["B"] for w in weights]
    assert all(sum(w.values()) == pytest.approx(100.0) for w in weights)
    assert max(max(w.values()) for w in weights) <= SETTINGS.ceiling  # A keeps its floor
    assert any(w["B"] == SETTINGS.ceiling for w in weights)  # and B is held at the ceiling
    assert counts["B"][0] > counts["A"][0]
    entry = rf.history("search")[-1]  # the last change, with the inputs that made it
    assert entry["reason"] == "bandit" and entry["samples"] == SETTINGS.samples
    seen = sum(entry["impressions"].values())
    assert seen % ROUND == 0 and entry["new"] == weights[seen // ROUND - 1]
    assert all(entry["clicks"][n] <= entry["impressions"][n] for n in "AB")


@pytest.mark.parametrize("seed", [1, 2])
def test_with_equal_ctrs_no_version_starves_below_the_floor(tmp_path: Path, seed: int) -> None:
    rf = start(tmp_path)
    weights, counts = simulate(rf, {"A": 0.05, "B": 0.05}, rounds=20, seed=seed)
    assert min(min(w.values()) for w in weights) >= SETTINGS.floor
    assert min(c[0] for c in counts.values()) >= 0.005 * sum(c[0] for c in counts.values())


def test_a_version_keeps_its_traffic_until_it_has_min_impressions(tmp_path: Path) -> None:
    rf = start(tmp_path)
    with rf.edit("pin") as reg:
        reg.set_weight(reg.get("B"), 30.0, SETTINGS.floor, SETTINGS.ceiling)
    rng = np.random.default_rng(0)
    few = update(rf, {"search": {"A": Counts(5000, 500), "B": Counts(150, 0)}}, SETTINGS, rng)
    assert few["search"]["B"] == 30.0
    enough = update(rf, {"search": {"A": Counts(5000, 500), "B": Counts(400, 0)}}, SETTINGS, rng)
    assert enough["search"]["B"] == 30.0 - SETTINGS.max_step


def test_a_new_version_cannot_leave_its_floor_on_a_handful_of_clicks(tmp_path: Path) -> None:
    """8 impressions with 5 clicks once moved a version from 1% to 99% in one update."""
    rf = start(tmp_path)
    rng = np.random.default_rng(0)
    for _ in range(5):
        weights = update(rf, {"search": {"A": Counts(800, 8), "B": Counts(8, 5)}}, SETTINGS, rng)
        assert weights["search"] == {"A": 99.0, "B": SETTINGS.floor}


def test_one_update_moves_a_weight_by_at_most_max_step(tmp_path: Path) -> None:
    rf = start(tmp_path)
    rng = np.random.default_rng(0)
    strong = {"search": {"A": Counts(10_000, 10), "B": Counts(10_000, 5_000)}}
    seen = [update(rf, strong, SETTINGS, rng)["search"]["B"] for _ in range(12)]
    assert seen[:10] == [11.0, 21.0, 31.0, 41.0, 51.0, 61.0, 71.0, 81.0, 91.0, SETTINGS.ceiling]
    assert seen[-1] == SETTINGS.ceiling
    small = SETTINGS.model_copy(update={"max_step": 2.5})
    assert update(rf, {"search": {"A": Counts(10_000, 9_000), "B": Counts(10_000, 1)}}, small, rng)[
        "search"
    ]["B"] == SETTINGS.ceiling - 2.5


def test_a_retired_version_never_serves_again(tmp_path: Path) -> None:
    rf = start(tmp_path, "ABC")
    with rf.edit("retire") as reg:
        reg.retire("C", SETTINGS.floor, SETTINGS.ceiling)
    weights, counts = simulate(rf, {"A": 0.04, "B": 0.05, "C": 0.5}, rounds=6, seed=4)
    assert counts["C"] == [0, 0]
    assert all("C" not in w for w in weights)
    assert rf.read().get("C").weight == 0.0
