"""Versioned model directories under <data_dir>/models/recs/: written whole, then swapped in by CURRENT.

<root>/<version>/ holds metadata.json, users.json, items.parquet (ids, titles, authors, genres,
interaction counts), user_factors.npy, item_factors.npy, seen.npz (each user's training items)
top_items.npy (each user's best items, precomputed for serving) and ann/ (an HnswStore over the
unit-length item factors). <root>/CURRENT names the served one.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import scipy.sparse as sp

from vibeshelf.index.base import IndexManifest, Records
from vibeshelf.index.hnsw import HnswParams, HnswStore
from vibeshelf.recommend.dataset import Interactions
from vibeshelf.recommend.items import ITEMS_FILE, ItemTable
from vibeshelf.recommend.models.als import gramian
from vibeshelf.settings import Settings
from vibeshelf.storage.builds import publish
from vibeshelf.storage.files import atomic_write

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
METADATA_FILE = "metadata.json"
USERS_FILE = "users.json"
USER_FACTORS_FILE = "user_factors.npy"
ITEM_FACTORS_FILE = "item_factors.npy"
SEEN_FILE = "seen.npz"
TOP_ITEMS_FILE = "top_items.npy"
ANN_DIR = "ann"
ANN_PARAMS = HnswParams(m=16, ef_construction=200, ef_search=128, keep_builds=1)


def recs_root(settings: Settings) -> Path:
    """Where recommender model versions live."""
    return settings.models_dir / "recs"


class ModelNotFoundError(FileNotFoundError):
    """No trained recommender model where one was expected."""


@dataclass
class RecsModel:
    """A trained recommender: factors, id maps, each user's training items, item counts, metadata."""

    users: list[str]
    items: ItemTable
    user_factors: np.ndarray
    item_factors: np.ndarray
    seen: sp.csr_matrix
    counts: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)
    ann: HnswStore | None = None
    top_items: np.ndarray | None = None
    """users x k item indices, best first, training items excluded, -1 padded; None: score live."""

    @classmethod
    def fitted(
        cls,
        interactions: Interactions,
        items: ItemTable,
        user_factors: np.ndarray,
        item_factors: np.ndarray,
        metadata: dict[str, Any],
    ) -> RecsModel:
        """A model fitted on `interactions`: their pairs are each user's seen items."""
        s = interactions.strengths
        return cls(
            users=interactions.users,
            items=items,
            user_factors=user_factors,
            item_factors=item_factors,
            seen=sp.csr_matrix((np.ones(s.nnz, np.float32), s.indices, s.indptr), shape=s.shape),
            counts=interactions.item_counts(),
            metadata=metadata,
        )

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", ""))

    @cached_property
    def user_index(self) -> dict[str, int]:
        return {u: i for i, u in enumerate(self.users)}

    @cached_property
    def item_index(self) -> dict[str, int]:
        return {item: i for i, item in enumerate(self.items.ids)}

    @cached_property
    def gram_inverse(self) -> np.ndarray:
        """(Y'Y + reg I)^-1 in float64, shared by every fold-in."""
        gram = gramian(self.item_factors, float(self.metadata["params"]["regularization"]))
        return np.linalg.inv(gram.astype(np.float64))

    @cached_property
    def unit_items(self) -> np.ndarray:
        """Item factors scaled to unit length (zero rows stay zero), for cosine similarity."""
        norms = np.linalg.norm(self.item_factors, axis=1, keepdims=True)
        return np.divide(
            self.item_factors, norms, out=np.zeros_like(self.item_factors), where=norms > 0
        )

    @cached_property
    def popularity(self) -> np.ndarray:
        """Users per item scaled to [0, 1]."""
        top = self.counts.max(initial=0)
        return self.counts / top if top else np.zeros(len(self.counts))

    def warm(self) -> None:
        """Compute the cached arrays serving needs now, not on the first request."""
        for name in ("gram_inverse", "unit_items", "popularity", "user_index", "item_index"):
            getattr(self, name)

    def user_items(self, user: int) -> np.ndarray:
        return self.seen.indices[self.seen.indptr[user] : self.seen.indptr[user + 1]]


def write_model(root: Path, model: RecsModel, keep: int, held: Collection[str] = ()) -> Path:
    """Write `model` as <root>/<version> whole (storage.builds.publish), point CURRENT at it, and
    prune to the newest `keep` versions, sparing those in `held` (experiment versions use them)."""
    final = publish(root, model.version, lambda tmp: _write_files(tmp, model), builds=root)
    prune_versions(root, keep, set(held))
    log.debug("recommender model %s written to %s", model.version, final)  # the CLI prints it
    return final


def _write_files(tmp: Path, model: RecsModel) -> None:
    (tmp / METADATA_FILE).write_text(json.dumps(model.metadata, indent=2, sort_keys=True))
    (tmp / USERS_FILE).write_text(json.dumps(model.users))
    pq.write_table(model.items.to_arrow(interactions=model.counts.tolist()), tmp / ITEMS_FILE)
    np.save(tmp / USER_FACTORS_FILE, model.user_factors)
    np.save(tmp / ITEM_FACTORS_FILE, model.item_factors)
    if model.top_items is not None:
        np.save(tmp / TOP_ITEMS_FILE, model.top_items)
    np.savez(
        tmp / SEEN_FILE, indptr=model.seen.indptr, indices=model.seen.indices, shape=model.seen.shape
    )
    _build_ann(tmp / ANN_DIR, model)


def _build_ann(path: Path, model: RecsModel) -> None:
    """An HNSW index (cosine) over the items that have non-zero factors."""
    unit = model.unit_items
    rows = np.flatnonzero(np.linalg.norm(unit, axis=1) > 0)
    store = HnswStore(path, ANN_PARAMS)
    records = Records([model.items.ids[i] for i in rows], unit[rows], [{} for _ in rows])
    manifest = IndexManifest(
        model_name="recs-als",
        model_version=model.version,
        dim=unit.shape[1],
        catalog_checksum=str(model.metadata.get("data_checksum", "")),
    )
    store.rebuild(records, manifest)


def load_model(root: Path, version: str | None = None) -> RecsModel:
    """The model named by `version`, or by CURRENT."""
    version = version or current_version(root)
    if version is None:
        raise ModelNotFoundError(
            f"no recommender model in {root}: run `vibeshelf train recs` first"
        )
    path = root / version
    metadata = load_metadata(root, version)
    items, table = ItemTable.read(path / ITEMS_FILE)
    seen = np.load(path / SEEN_FILE)
    indices = seen["indices"]
    top_items = path / TOP_ITEMS_FILE
    return RecsModel(
        users=json.loads((path / USERS_FILE).read_text()),
        items=items,
        user_factors=np.load(path / USER_FACTORS_FILE),
        item_factors=np.load(path / ITEM_FACTORS_FILE),
        seen=sp.csr_matrix(
            (np.ones(len(indices), np.float32), indices, seen["indptr"]), shape=tuple(seen["shape"])
        ),
        counts=np.asarray(table.column("interactions").to_pylist(), dtype=np.int64),
        metadata=metadata,
        ann=HnswStore(path / ANN_DIR, ANN_PARAMS),
        top_items=np.load(top_items) if top_items.is_file() else None,
    )


def load_metadata(root: Path, version: str) -> dict[str, Any]:
    """A version's metadata.json."""
    path = root / version / METADATA_FILE
    if not path.is_file():
        raise ModelNotFoundError(f"recommender model {version} not found in {root}")
    return json.loads(path.read_text())


def versions(root: Path) -> list[str]:
    """Complete model versions, oldest first (names sort by creation time)."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / METADATA_FILE).is_file())


def current_version(root: Path) -> str | None:
    pointer = root / CURRENT
    return pointer.read_text().strip() if pointer.is_file() else None


def previous_version(root: Path, version: str) -> str | None:
    """The newest version older than `version`."""
    older = [v for v in versions(root) if v < version]
    return older[-1] if older else None


def set_current(root: Path, version: str) -> None:
    """Point CURRENT at `version` atomically."""
    if not (root / version / METADATA_FILE).is_file():
        raise ModelNotFoundError(f"recommender model {version} not found in {root}")
    atomic_write(root / CURRENT, version)


def prune_versions(root: Path, keep: int, held: set[str]) -> None:
    """Keep the newest `keep` versions, always the current one, and those in `held`."""
    current = current_version(root)
    old = [v for v in versions(root) if v != current]
    for version in old[: max(0, len(old) - (keep - 1))]:
        if version in held:
            log.info("recommender model %s kept: an experiment version points at it", version)
        else:
            shutil.rmtree(root / version, ignore_errors=True)
