"""The current ranker's record (its `metadata.json`), read without LightGBM: where versions live,
its feature importances as shares of the gain, and the line `eval recs` prints of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vibeshelf.recommend.artifacts import METADATA_FILE, current_version
from vibeshelf.settings import Settings

SHOWN = 12


def ranker_root(settings: Settings) -> Path:
    """Where ranker versions live."""
    return settings.models_dir / "ranker"


def current_record(settings: Settings) -> dict[str, Any] | None:
    """The current ranker version's metadata, or None when no ranker was trained."""
    root = ranker_root(settings)
    version = current_version(root)
    path = root / version / METADATA_FILE if version else None
    return json.loads(path.read_text()) if path is not None and path.is_file() else None


def importance_shares(gains: dict[str, float]) -> dict[str, float]:
    """Each feature's share of the total gain, largest first."""
    total = sum(gains.values()) or 1.0
    return {name: round(gain / total, 4) for name, gain in sorted(gains.items(), key=lambda x: -x[1])}


def ranker_summary(record: dict[str, Any]) -> str:
    """The ranker's version, what it was trained on, its ratio to ALS and its top importances."""
    trained = record.get("trained_on", {})
    ratio = record.get("metrics", {}).get("ndcg_ratio_vs_als")
    shares = importance_shares(record.get("importances_gain", {}))
    top = ", ".join(f"{name} {share:.3f}" for name, share in list(shares.items())[:SHOWN])
    return (
        f"ranker {record.get('version', '?')} (trained on {trained.get('source', '?')}, "
        f"sources {', '.join(record.get('sources', []))}; two-stage + rules / ALS NDCG@10 "
        f"{ratio}x on its evaluation readers)\nfeature importances (gain share): {top}"
    )
