"""The VectorStore contract every backend implements, and the records it holds."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import numpy as np

from vibeshelf.index.filters import Filter


class Hit(NamedTuple):
    """One nearest neighbour: the record id and its cosine similarity to the query (a tuple, so a
    page of them is cheap to build)."""

    id: str
    similarity: float


@dataclass
class Records:
    """A batch of vectors with their ids and filterable fields (see index.filters)."""

    ids: list[str]
    vectors: np.ndarray
    fields: list[dict[str, Any]]

    def __post_init__(self) -> None:
        self.vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        n = len(self.ids)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != n or len(self.fields) != n:
            raise ValueError(
                f"records disagree: {n} ids, vectors {self.vectors.shape}, {len(self.fields)} fields"
            )
        if len(set(self.ids)) != n:
            raise ValueError("record ids must be unique")

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class IndexManifest:
    """What an index was built from; written beside every build."""

    model_name: str
    model_version: str
    dim: int
    count: int = 0
    catalog_checksum: str = ""
    backend: str = ""
    build_id: str = ""
    built_at: str = ""
    build_seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    lexical_build: str = ""  # the BM25 build made with this one; "" in builds made before pairing

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexManifest:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class VectorStore(ABC):
    """Cosine KNN over unit vectors with filters; ids are strings, similarity in [-1, 1]."""

    @property
    @abstractmethod
    def manifest(self) -> IndexManifest:
        """The manifest of the data being served."""

    @abstractmethod
    def rebuild(self, records: Records, manifest: IndexManifest) -> None:
        """Replace the whole contents; searches see the old index until the new one is complete."""

    @abstractmethod
    def upsert(self, records: Records) -> None:
        """Insert or replace records by id."""

    @abstractmethod
    def delete(self, ids: Sequence[str]) -> int:
        """Remove records by id; returns how many existed."""

    @abstractmethod
    def knn(self, vector: np.ndarray, k: int, filters: Filter | None = None) -> list[Hit]:
        """The k most similar records that match `filters`, most similar first."""

    @abstractmethod
    def similarities(self, vector: np.ndarray, ids: Sequence[str]) -> list[float | None]:
        """Exact cosine similarity of `vector` to each record (None for an unknown id)."""

    @abstractmethod
    def count(self) -> int:
        """Number of live records."""

    @abstractmethod
    def drop(self) -> None:
        """Remove the index and all its data."""

    @abstractmethod
    def health(self) -> dict[str, Any]:
        """A small JSON-able status: ok flag, backend, count, build id."""
