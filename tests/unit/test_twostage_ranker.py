"""The LightGBM ranker: learns an order from grouped rows, is deterministic, and round-trips versions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vibeshelf.config.ranking import RankerParams
from vibeshelf.recommend.artifacts import ModelNotFoundError, current_version, versions
from vibeshelf.recommend.twostage.ranker import (
    LABEL,
    fit_ranker,
    group_sizes,
    load_ranker,
    write_ranker,
)

FEATURES = ["signal", "noise"]
PARAMS = RankerParams(n_estimators=40, min_child_samples=5, early_stopping_rounds=10)


def readers(n: int, seed: int) -> pd.DataFrame:
    """20 candidates per reader; the label grows with `signal`, `noise` is unrelated."""
    rng = np.random.default_rng(seed)
    signal = rng.random(n * 20)
    return pd.DataFrame(
        {
            "user_id": np.repeat([f"r{seed}-{u}" for u in range(n)], 20),
            "item_id": [f"b{i}" for i in range(n * 20)],
            "signal": signal,
            "noise": rng.random(n * 20),
            LABEL: np.digitize(signal + rng.normal(0, 0.1, n * 20), [0.6, 0.8, 0.9]),
        }
    )


def test_the_ranker_learns_the_signal_deterministically(tmp_path: Path) -> None:
    train, valid, test = readers(60, 1), readers(20, 2), readers(20, 3)
    first = fit_ranker(train, valid, FEATURES, "test-1", PARAMS, seed=5)
    again = fit_ranker(train, valid, FEATURES, "test-1", PARAMS, seed=5)
    scores = first.predict(test)
    np.testing.assert_array_equal(scores, again.predict(test))
    assert np.corrcoef(scores, test["signal"])[0, 1] > 0.8
    gains = first.metadata["importances_gain"]
    assert gains["signal"] > gains["noise"]
    assert first.metadata["features_version"] == "test-1"


def test_versions_round_trip_and_keep_the_newest(tmp_path: Path) -> None:
    root = tmp_path / "ranker"
    with pytest.raises(ModelNotFoundError):
        load_ranker(root)
    train, valid, test = readers(30, 1), readers(10, 2), readers(10, 3)
    written = []
    for seed in (1, 2, 3):
        ranker = fit_ranker(train, valid, FEATURES, "test-1", PARAMS, seed=seed)
        write_ranker(root, ranker, keep=2)
        written.append(ranker)
    assert versions(root) == [r.version for r in written[1:]]
    assert current_version(root) == written[-1].version
    loaded = load_ranker(root)
    np.testing.assert_allclose(loaded.predict(test), written[-1].predict(test))
    assert loaded.features == FEATURES


def test_rows_must_be_grouped_and_hold_every_feature() -> None:
    frame = readers(3, 1)
    assert group_sizes(frame).tolist() == [20, 20, 20]
    with pytest.raises(ValueError, match="contiguous"):
        group_sizes(frame.sample(frac=1.0, random_state=0))
    ranker = fit_ranker(readers(30, 1), readers(10, 2), FEATURES, "test-1", PARAMS, seed=1)
    with pytest.raises(ValueError, match="noise"):
        ranker.predict(frame.drop(columns=["noise"]))
