"""The InteractionStore contract, the row schema every backend reads and writes, and source info."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import pyarrow as pa

from vibeshelf.storage.errors import StorageError

# One interaction: `rating` as given (null when the row had none); `strength` is the rating scaled
# to (0, 1], null for implicit rows (a zero "implicit" rating, or an event with no rating).
SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("item_id", pa.string()),
        ("rating", pa.float64()),
        ("strength", pa.float64()),
        ("event", pa.string()),
        ("ts", pa.timestamp("us")),
    ]
)
COLUMNS: tuple[str, ...] = tuple(SCHEMA.names)

ITEM_SPACES = ("catalog", "book-crossing", "own")
INGEST = "ingest"
API = "api"
# `recommend.source = "auto"`: the first of these that was ingested (the denser goodbooks ratings
# of the catalog's own books before the ISBN-linked Book-Crossing ones), else the only source.
AUTO = "auto"
PREFERRED = ("goodbooks", "book-crossing-goodbooks")


@dataclass(frozen=True)
class SourceInfo:
    """A named set of interactions and the item space its item ids belong to."""

    name: str
    item_space: str
    rows: int = 0
    updated_at: str = ""

    def __post_init__(self) -> None:
        if self.item_space not in ITEM_SPACES:
            raise ValueError(
                f"unknown item space {self.item_space!r}; expected one of {ITEM_SPACES}"
            )


class InteractionStore(ABC):
    """Interactions by source; ingested rows are replaced as a whole, API events are appended."""

    @abstractmethod
    def replace_source(self, info: SourceInfo, rows: pa.Table) -> SourceInfo:
        """Atomically replace the ingested rows of a source (its API events stay)."""

    @abstractmethod
    def append(self, source: str, rows: pa.Table) -> int:
        """Add API events to an existing source; returns how many were written."""

    @abstractmethod
    def read(self, source: str) -> pa.Table:
        """Every row of a source (ingested and API), in SCHEMA."""

    @abstractmethod
    def history(self, source: str, user_id: str) -> list[str]:
        """Distinct item ids the user interacted with in a source."""

    @abstractmethod
    def sources(self) -> list[SourceInfo]:
        """Every source with its row count, by name."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def source(self, name: str) -> SourceInfo:
        """One source's info (`auto`: the preferred ingested one); StorageError when none is."""
        found = {info.name: info for info in self.sources()}
        known = ", ".join(found) or "none"
        if name != AUTO:
            if name in found:
                return found[name]
            raise StorageError(
                f"no interactions for source {name!r} (known: {known}): run `vibeshelf ingest "
                "interactions`"
            )
        preferred = [found[p] for p in PREFERRED if p in found] or (
            list(found.values()) if len(found) == 1 else []
        )
        if preferred:
            return preferred[0]
        if not found:
            raise StorageError("no interactions ingested: run `vibeshelf ingest interactions`")
        raise StorageError(
            f"recommend.source is auto and the interactions sources are {known}: name one with "
            "--source or recommend.source"
        )


def conform(rows: pa.Table) -> pa.Table:
    """Rows cast to SCHEMA, columns in order; a missing column is an error."""
    missing = [c for c in COLUMNS if c not in rows.column_names]
    if missing:
        raise ValueError(f"interaction rows lack columns {missing}")
    return rows.select(list(COLUMNS)).cast(SCHEMA)
