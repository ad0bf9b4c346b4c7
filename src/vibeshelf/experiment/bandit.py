"""Thompson sampling: each version's weight is its share of posterior draws in which it is best."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from vibeshelf.analytics.events import Counts
from vibeshelf.analytics.store import AnalyticsStore
from vibeshelf.config.experiment import ExperimentSettings
from vibeshelf.experiment.registry import SURFACES, RegistryFile
from vibeshelf.experiment.split import TOTAL


def best_shares(counts: Mapping[str, Counts], samples: int, rng: np.random.Generator) -> dict[str, float]:
    """P(version is best) estimated from `samples` draws of CTR ~ Beta(1 + clicks, 1 + impressions - clicks)."""
    names = sorted(counts)
    alpha = np.array([1 + counts[n].clicks for n in names], dtype=float)
    beta = np.array([1 + max(0, counts[n].impressions - counts[n].clicks) for n in names], dtype=float)
    draws = rng.beta(alpha, beta, size=(samples, len(names)))
    wins = np.bincount(draws.argmax(axis=1), minlength=len(names))
    return {n: float(w) / samples for n, w in zip(names, wins, strict=True)}


def step_limits(weight: float, counts: Counts, settings: ExperimentSettings) -> tuple[float, float]:
    """Where one update may take a version's `weight`: nowhere before `min_impressions`, else at
    most `max_step` points either way."""
    if counts.impressions < settings.min_impressions:
        return weight, weight
    return weight - settings.max_step, weight + settings.max_step


def update(
    registry_file: RegistryFile,
    counts_of: Mapping[str, Mapping[str, Counts]],
    settings: ExperimentSettings,
    rng: np.random.Generator,
) -> dict[str, dict[str, float]]:
    """Recompute every surface's weights from its counts; returns the new weights per surface.

    No weight grows past its evidence: a version with fewer than `min_impressions` keeps its
    weight exactly, and one update moves any weight by at most `max_step` points. Pinned ones
    stay put.
    """
    inputs: dict[str, Any] = {}
    result: dict[str, dict[str, float]] = {}
    with registry_file.edit("bandit", inputs) as registry:
        for surface, counts in counts_of.items():
            active = registry.of(surface)
            if len(active) < 2:
                continue
            per_version = {v.name: counts.get(v.name, Counts()) for v in active}
            shares = best_shares(per_version, settings.samples, rng)
            limits = {v.name: step_limits(v.weight, per_version[v.name], settings) for v in active}
            result[surface] = registry.rebalance(
                surface, {n: s * TOTAL for n, s in shares.items()}, settings.floor,
                settings.ceiling, limits=limits,
            )
            inputs[surface] = {
                "impressions": {n: c.impressions for n, c in per_version.items()},
                "clicks": {n: c.clicks for n, c in per_version.items()},
                "samples": settings.samples,
                "p_best": shares,
            }
    return result


def update_weights(
    registry_file: RegistryFile, store: AnalyticsStore, settings: ExperimentSettings,
    rng: np.random.Generator,
) -> dict[str, dict[str, float]]:
    """One bandit update of every surface from the counts in the analytics rollup."""
    return update(registry_file, {s: store.counts(s) for s in SURFACES}, settings, rng)
