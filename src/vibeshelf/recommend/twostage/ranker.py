"""The learned ranker: LightGBM LambdaRank over candidate feature rows grouped per reader.

Versions live under <data_dir>/models/ranker/<version>/ (model.txt: the booster; metadata.json:
parameters, feature names and FEATURES_VERSION, metrics, gain importances); CURRENT names the
served one, and the newest `keep` versions are kept, like the recommender's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from vibeshelf.config.ranking import RankerParams
from vibeshelf.recommend.artifacts import (
    METADATA_FILE,
    ModelNotFoundError,
    current_version,
    prune_versions,
)
from vibeshelf.storage.builds import publish

MODEL_FILE = "model.txt"
LABEL = "label"
THREADS = 2


@dataclass
class Ranker:
    """A trained booster and what it was trained on."""

    booster: lgb.Booster
    metadata: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    @property
    def features(self) -> list[str]:
        return list(self.metadata["features"])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """A score per row (higher is better); the frame must hold every feature column."""
        if frame.empty:
            return np.zeros(0)
        missing = [f for f in self.features if f not in frame.columns]
        if missing:
            raise ValueError(f"feature columns missing for ranker {self.version}: {missing}")
        x = frame[self.features].to_numpy(np.float64)
        return np.asarray(self.booster.predict(x, num_threads=1), np.float64)


def group_sizes(frame: pd.DataFrame) -> np.ndarray:
    """Rows per reader; each reader's rows must be contiguous."""
    users = frame["user_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    if len(np.unique(users[starts])) != len(starts):
        raise ValueError("a reader's rows are not contiguous")
    return np.diff(np.r_[starts, len(users)])


def fit_ranker(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    features: list[str],
    features_version: str,
    params: RankerParams,
    seed: int,
) -> Ranker:
    """Fit on `train` (a LABEL column of grades), stopping early on `valid` (other readers)."""
    lgb_params = {
        "objective": "lambdarank",
        "metric": "ndcg",
        "eval_at": [10],
        "num_leaves": params.num_leaves,
        "learning_rate": params.learning_rate,
        "min_child_samples": params.min_child_samples,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": THREADS,
        "verbosity": -1,
    }

    def dataset(frame: pd.DataFrame, reference: lgb.Dataset | None = None) -> lgb.Dataset:
        x = frame[features].to_numpy(np.float64)
        return lgb.Dataset(
            x, frame[LABEL], group=group_sizes(frame), feature_name=features, reference=reference
        )

    train_set = dataset(train)
    booster = lgb.train(
        lgb_params,
        train_set,
        num_boost_round=params.n_estimators,
        valid_sets=[dataset(valid, train_set)],
        callbacks=[lgb.early_stopping(params.early_stopping_rounds, verbose=False)],
    )
    created = datetime.now(UTC)
    gains = booster.feature_importance("gain")
    metadata = {
        "version": f"{created:%Y%m%dT%H%M%S%f}",
        "created": created.isoformat(timespec="seconds"),
        "params": {**params.model_dump(), "seed": seed},
        "best_iteration": booster.best_iteration,
        "features": features,
        "features_version": features_version,
        "importances_gain": {f: round(float(g), 3) for f, g in zip(features, gains, strict=True)},
        "counts": {"train_rows": len(train), "valid_rows": len(valid)},
        "metrics": {},
    }
    return Ranker(booster, metadata)


def write_ranker(root: Path, ranker: Ranker, keep: int) -> Path:
    """Write the version whole, point CURRENT at it, keep the newest `keep`."""

    def write(tmp: Path) -> None:
        ranker.booster.save_model(
            str(tmp / MODEL_FILE), num_iteration=ranker.booster.best_iteration
        )
        (tmp / METADATA_FILE).write_text(json.dumps(ranker.metadata, indent=2, sort_keys=True))

    final = publish(root, ranker.version, write, builds=root)
    prune_versions(root, keep, set())
    return final


def load_ranker(root: Path, version: str | None = None) -> Ranker:
    """The version named, or CURRENT's."""
    version = version or current_version(root)
    path = root / version if version else None
    if path is None or not (path / METADATA_FILE).is_file():
        raise ModelNotFoundError(
            f"no ranker {version or ''} in {root}: run `vibeshelf ranker train`"
        )
    booster = lgb.Booster(model_file=str(path / MODEL_FILE))
    return Ranker(booster, json.loads((path / METADATA_FILE).read_text()))
