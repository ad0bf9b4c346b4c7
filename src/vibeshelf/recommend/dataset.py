"""A source's interactions as a user x item matrix with id maps, checksum and leave-out splits."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.items import ItemTable, item_universe
from vibeshelf.recommend.storage.base import SourceInfo
from vibeshelf.recommend.storage.factory import open_interactions
from vibeshelf.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Interactions:
    """`strengths[u, i]`: the interaction's strength in (0, 1], NaN for an implicit one."""

    users: list[str]
    items: list[str]
    strengths: sp.csr_matrix

    @classmethod
    def from_table(cls, rows: pa.Table, items: list[str]) -> Interactions:
        """Rows on `items` (the model's item universe, in order); others are dropped and logged."""
        item_index = {item: i for i, item in enumerate(items)}
        item_ids = rows.column("item_id").to_pylist()
        cols = np.fromiter((item_index.get(i, -1) for i in item_ids), np.int64, len(item_ids))
        known = cols >= 0
        if not known.all():
            log.warning(
                "%d interactions are on items outside the model's items; ignored", (~known).sum()
            )
        user_ids = pc.filter(rows.column("user_id"), pa.array(known))
        users, user_rows = np.unique(
            np.asarray(user_ids.to_pylist(), dtype=object), return_inverse=True
        )
        strength = pc.filter(rows.column("strength"), pa.array(known)).to_numpy(
            zero_copy_only=False
        )
        coo = sp.coo_matrix(
            (np.asarray(strength, np.float64), (user_rows, cols[known])),
            shape=(len(users), len(items)),
        )
        return cls(list(users), list(items), _csr_first_wins(coo))

    @property
    def shape(self) -> tuple[int, int]:
        return self.strengths.shape  # type: ignore[return-value]

    @property
    def nnz(self) -> int:
        return int(self.strengths.nnz)

    @cached_property
    def user_index(self) -> dict[str, int]:
        return {u: i for i, u in enumerate(self.users)}

    def seen(self) -> sp.csr_matrix:
        """Which items each user interacted with (1.0 each), as the model stores it."""
        m = self.strengths
        return sp.csr_matrix((np.ones(m.nnz, np.float32), m.indices, m.indptr), shape=m.shape)

    def item_counts(self) -> np.ndarray:
        """Users per item."""
        return np.bincount(self.strengths.indices, minlength=self.shape[1])

    def user_items(self, user: int) -> np.ndarray:
        m = self.strengths
        return m.indices[m.indptr[user] : m.indptr[user + 1]]

    def checksum(self) -> str:
        """A digest of ids, structure and values: equal data, equal checksum."""
        digest = hashlib.blake2b(digest_size=16)
        for part in ("\n".join(self.users), "\n".join(self.items)):
            digest.update(part.encode())
        m = self.strengths
        for array in (m.indptr, m.indices, np.nan_to_num(m.data, nan=-1.0)):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()

    def split(self, fraction: float, min_user: int, seed: int) -> tuple[Interactions, Interactions]:
        """Per-user leave-out: users with >= min_user items give round(fraction * n) (>= 1) at random.

        Returns (train, held_out) over the same id maps; users with fewer items stay whole in train.
        """
        m = self.strengths
        counts = np.diff(m.indptr)
        rows = np.repeat(np.arange(self.shape[0]), counts)
        keys = np.random.default_rng(seed).random(m.nnz)
        order = np.lexsort((keys, rows))  # rows stay grouped, shuffled within each row
        rank = np.empty(m.nnz, np.int64)
        rank[order] = np.arange(m.nnz) - np.repeat(m.indptr[:-1], counts)
        take = np.where(counts >= min_user, np.maximum(1, np.rint(fraction * counts)), 0).astype(
            np.int64
        )
        held = rank < take[rows]
        return self._subset(~held), self._subset(held)

    def _subset(self, mask: np.ndarray) -> Interactions:
        coo = self.strengths.tocoo()
        sub = sp.csr_matrix((coo.data[mask], (coo.row[mask], coo.col[mask])), shape=self.shape)
        return Interactions(self.users, self.items, sub)


def _csr_first_wins(coo: sp.coo_matrix) -> sp.csr_matrix:
    """CSR without summing duplicates (ingest already removed them; the first one wins if not)."""
    order = np.lexsort((coo.col, coo.row))
    row, col, data = coo.row[order], coo.col[order], coo.data[order]
    first = np.ones(len(row), bool)
    first[1:] = (row[1:] != row[:-1]) | (col[1:] != col[:-1])
    row, col, data = row[first], col[first], data[first]
    indptr = np.zeros(coo.shape[0] + 1, np.int64)
    np.add.at(indptr, row + 1, 1)
    return sp.csr_matrix((data, col, np.cumsum(indptr)), shape=coo.shape)


@dataclass
class TrainingData:
    """A source's interactions over the item universe of its item space."""

    source: SourceInfo
    interactions: Interactions
    items: ItemTable


def load_training_data(
    settings: Settings, rec: RecommendSettings, source: str | None = None
) -> TrainingData:
    """Read a source from the interactions store and index it over its items."""
    store = open_interactions(rec.events_url, settings.data_dir)
    try:
        info = store.source(source or rec.source)
        rows = store.read(info.name)
    finally:
        store.close()
    return training_data_from_rows(settings, info, rows)


def training_data_from_rows(settings: Settings, info: SourceInfo, rows: pa.Table) -> TrainingData:
    """A source's rows (in the store's SCHEMA) indexed over the item universe of its item space."""
    interacted = rows.column("item_id").unique().to_pylist()
    items = item_universe(info.item_space, interacted, settings.books_path, settings.catalog_dir)
    return TrainingData(info, Interactions.from_table(rows, items.ids), items)
