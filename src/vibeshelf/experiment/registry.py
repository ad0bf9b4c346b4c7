"""The model registry: named, immutable versions per surface, their weights and status, as JSON."""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from vibeshelf.experiment.split import TOTAL, allocate
from vibeshelf.storage.files import atomic_write

log = logging.getLogger(__name__)

Surface = Literal["search", "recommend"]
SURFACES: tuple[Surface, ...] = ("search", "recommend")
Status = Literal["registered", "active", "retired"]
REGISTRY_FILE = "registry.json"
HISTORY_FILE = "history.jsonl"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class RegistryError(ValueError):
    """A request the registry refuses: unknown or duplicate name, bad weight, retired version."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ModelVersion(BaseModel):
    """One servable version: what it points at (immutable) and its place in the traffic split."""

    name: str = Field(pattern=NAME_PATTERN)
    surface: Surface
    created: str
    data_checksum: str
    metrics: dict[str, float] = Field(default_factory=dict)
    target: dict[str, Any] = Field(description="search: index_build, model, ranking; recommend: recs_version")
    status: Status = "registered"
    weight: float = 0.0
    pinned: bool = False


class Registry(BaseModel):
    """Every version of every surface."""

    versions: list[ModelVersion] = Field(default_factory=list)

    def get(self, name: str) -> ModelVersion:
        for version in self.versions:
            if version.name == name:
                return version
        known = ", ".join(v.name for v in self.versions) or "none"
        raise RegistryError(f"unknown version {name!r} (known: {known})")

    def of(self, surface: str, status: Status | None = "active") -> list[ModelVersion]:
        return [
            v for v in self.versions if v.surface == surface and (status is None or v.status == status)
        ]

    def recs_versions_in_use(self) -> set[str]:
        """Recommender model versions that registered or active recommend versions point at."""
        return {
            str(v.target["recs_version"])
            for v in self.of("recommend", None)
            if v.status != "retired" and "recs_version" in v.target
        }

    def weights(self, surface: str) -> dict[str, float]:
        return {v.name: v.weight for v in self.of(surface)}

    def add(self, version: ModelVersion) -> None:
        if any(v.name == version.name for v in self.versions):
            raise RegistryError(f"version {version.name!r} exists; versions are immutable")
        self.versions.append(version)

    def activate(self, name: str, floor: float, ceiling: float) -> None:
        """Put a registered version into traffic at `floor` (100 when it is the surface's only one)."""
        version = self.get(name)
        if version.status != "registered":
            raise RegistryError(f"version {name!r} is {version.status}; only a registered one starts")
        version.status = "active"
        version.weight = 0.0
        self.set_weight(version, TOTAL if len(self.of(version.surface)) == 1 else floor, floor, ceiling)

    def retire(self, name: str, floor: float, ceiling: float) -> None:
        """Take a version out of traffic for good; the others share its weight."""
        version = self.get(name)
        if version.status == "retired":
            raise RegistryError(f"version {name!r} is already retired")
        others = [v for v in self.of(version.surface) if v.name != name]
        if version.status == "active" and not others:
            raise RegistryError(f"{name!r} is the only active {version.surface} version")
        version.status, version.weight, version.pinned = "retired", 0.0, False
        self.rebalance(version.surface, {v.name: v.weight for v in others}, floor, ceiling)

    def set_weight(self, version: ModelVersion, weight: float, floor: float, ceiling: float) -> None:
        """Fix one active version's weight; the others keep their proportions within the bounds."""
        others = [v for v in self.of(version.surface) if v.name != version.name]
        if not others and weight != TOTAL:
            raise RegistryError(f"{version.name!r} is the only active version: its weight is 100")
        fixed = {version.name: weight} | {v.name: v.weight for v in others if v.pinned}
        if not 0 < weight <= TOTAL or sum(fixed.values()) + floor * (len(others) + 1 - len(fixed)) > TOTAL:
            raise RegistryError(f"weight {weight:g} leaves less than the floor for the other versions")
        shares = {v.name: v.weight for v in others} | {version.name: 0.0}
        self.rebalance(version.surface, shares, floor, ceiling, fixed)

    def rebalance(
        self,
        surface: str,
        shares: dict[str, float],
        floor: float,
        ceiling: float,
        fixed: dict[str, float] | None = None,
        limits: dict[str, tuple[float, float]] | None = None,
    ) -> dict[str, float]:
        """New weights from `shares`: `fixed` (and pinned) exact, within floor..ceiling and each
        version's (low, high) `limits`."""
        active = {v.name: v for v in self.of(surface)}
        fixed = {n: v.weight for n, v in active.items() if v.pinned} | (fixed or {})
        bounds = {n: (limits or {}).get(n, (0.0, TOTAL)) for n in active}
        alone = len(active) == 1
        low = {n: TOTAL if alone else fixed.get(n, max(floor, bounds[n][0])) for n in active}
        high = {
            n: TOTAL if alone else fixed.get(n, max(low[n], min(ceiling, bounds[n][1])))
            for n in active
        }
        weights = allocate({n: shares.get(n, 0.0) for n in active}, low, high)
        for name, weight in weights.items():
            active[name].weight = weight
        return weights


class RegistryFile:
    """registry.json under <data_dir>/experiments/, rewritten atomically under a file lock.

    Every change of a surface's weights is appended to history.jsonl and logged as one JSON line
    with the reason and its inputs (for a bandit update: impressions, clicks, samples).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / REGISTRY_FILE
        self.history_path = directory / HISTORY_FILE

    def exists(self) -> bool:
        return self.path.is_file()

    def stamp(self) -> int:
        """Changes whenever the registry is rewritten (0 when there is none)."""
        try:
            return self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return 0

    def read(self) -> Registry:
        if not self.path.is_file():
            return Registry()
        return Registry.model_validate_json(self.path.read_text())

    def history(self, surface: str | None = None) -> list[dict[str, Any]]:
        """Weight changes, oldest first."""
        if not self.history_path.is_file():
            return []
        entries = [json.loads(line) for line in self.history_path.read_text().splitlines() if line]
        return [e for e in entries if surface is None or e["surface"] == surface]

    @contextmanager
    def edit(self, reason: str, inputs: dict[str, Any] | None = None) -> Iterator[Registry]:
        """The registry to change in place; written back (and weight changes logged) on success.

        `inputs` may be filled in by the block: it goes into each weight-history entry.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            registry = self.read()
            before = {s: _all_weights(registry, s) for s in SURFACES}
            yield registry
            atomic_write(self.path, json.dumps(registry.model_dump(), indent=2))
            for surface in SURFACES:
                after = _all_weights(registry, surface)
                if after != before[surface]:
                    self._log_change(surface, reason, before[surface], after, inputs or {})

    def _log_change(
        self, surface: str, reason: str, old: dict[str, float], new: dict[str, float],
        inputs: dict[str, Any],
    ) -> None:
        entry = {"ts": now(), "surface": surface, "reason": reason, "old": old, "new": new,
                 **inputs.get(surface, {})}
        line = json.dumps(entry, sort_keys=True)
        with open(self.history_path, "a") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        log.info("weights changed: %s", line)


def _all_weights(registry: Registry, surface: str) -> dict[str, float]:
    return {v.name: v.weight for v in registry.of(surface, None) if v.status != "registered"}

