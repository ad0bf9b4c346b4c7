"""One immutable HNSW build in memory: graph, vectors, ids, filterable columns and their masks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import hnswlib
import numpy as np

from vibeshelf.index.base import IndexManifest
from vibeshelf.index.filters import NUMERIC_FIELDS, TAG_FIELDS, Filter, Range, Tag
from vibeshelf.index.storelib import as_tags


class Snapshot:
    """One immutable build in memory: graph, vectors, ids and filterable columns."""

    def __init__(
        self,
        index: hnswlib.Index,
        vectors: np.ndarray,
        ids: list[str | None],
        fields: dict[str, Any],
        manifest: IndexManifest,
    ) -> None:
        self.index = index
        self.vectors = vectors
        self.ids = ids
        self.live = np.array([i is not None for i in ids], dtype=bool)
        self.label_of = {rid: label for label, rid in enumerate(ids) if rid is not None}
        self.numeric = {f: np.asarray(fields[f], dtype=np.float64) for f in NUMERIC_FIELDS}
        # A build from before a tag field existed has none: its records carry no such tags.
        self.tag_lists: dict[str, list[list[str]]] = {
            f: fields.get(f) or [[] for _ in ids] for f in TAG_FIELDS
        }
        self.inverted = {f: _invert(self.tag_lists[f], self.live) for f in TAG_FIELDS}
        self.manifest = manifest

    @property
    def count(self) -> int:
        return int(self.live.sum())

    def fields(self) -> list[dict[str, Any]]:
        """Every label's filterable fields (None for a missing number), as Records holds them."""
        names = NUMERIC_FIELDS + TAG_FIELDS
        columns = [self.numeric[f] for f in NUMERIC_FIELDS] + [self.tag_lists[f] for f in TAG_FIELDS]
        return [
            {name: _missing_as_none(value) for name, value in zip(names, row, strict=True)}
            for row in zip(*columns, strict=True)
        ]

    def mask(self, filters: Filter) -> np.ndarray:
        """Boolean mask over labels: live records matching every clause."""
        mask = self.live.copy()
        for clause in filters.clauses:
            mask &= self._clause_mask(clause)
        return mask

    def _clause_mask(self, clause: Tag | Range) -> np.ndarray:
        out = np.zeros(len(self.ids), dtype=bool)
        if isinstance(clause, Tag):
            for value in clause.values:
                labels = self.inverted[clause.field].get(value)
                if labels is not None:
                    out[labels] = True
            return out
        column = self.numeric[clause.field]
        with np.errstate(invalid="ignore"):
            out = ~np.isnan(column)
            if clause.low is not None:
                out &= column >= clause.low
            if clause.high is not None:
                out &= column <= clause.high
        return out


def _invert(tag_lists: list[list[str]], live: np.ndarray) -> dict[str, np.ndarray]:
    postings: dict[str, list[int]] = {}
    for label, tags in enumerate(tag_lists):
        if live[label]:
            for tag in tags:
                postings.setdefault(tag, []).append(label)
    return {tag: np.asarray(labels, dtype=np.int64) for tag, labels in postings.items()}


def field_columns(fields: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    """Records' field dicts as normalised columns (NaN for a missing number)."""
    columns: dict[str, list[Any]] = {}
    for name in NUMERIC_FIELDS:
        columns[name] = [_as_float(f.get(name)) for f in fields]
    for name in TAG_FIELDS:
        columns[name] = [as_tags(f.get(name)) for f in fields]
    return columns


def _as_float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _missing_as_none(value: Any) -> Any:
    return None if isinstance(value, float) and np.isnan(value) else value
