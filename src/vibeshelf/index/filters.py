"""A small filter vocabulary every vector store understands: tag sets and numeric ranges, ANDed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TAG_FIELDS: tuple[str, ...] = ("shelves", "genres", "language")
NUMERIC_FIELDS: tuple[str, ...] = ("year", "average_rating", "ratings_count")


def normalize_tag(value: str) -> str:
    """Tags compare case-insensitively, trimmed."""
    return value.strip().lower()


@dataclass(frozen=True)
class Tag:
    """Matches a record whose tag field holds any of `values`."""

    field: str
    values: frozenset[str]

    def __post_init__(self) -> None:
        if self.field not in TAG_FIELDS:
            raise ValueError(f"unknown tag field {self.field!r}; expected one of {TAG_FIELDS}")
        if not self.values:
            raise ValueError(f"tag filter on {self.field!r} needs at least one value")
        object.__setattr__(self, "values", frozenset(normalize_tag(v) for v in self.values))

    @classmethod
    def any_of(cls, field: str, *values: str) -> Tag:
        return cls(field, frozenset(values))

    def matches(self, fields: Mapping[str, Any]) -> bool:
        value = fields.get(self.field)
        tags = [value] if isinstance(value, str) else value or ()
        return any(normalize_tag(t) in self.values for t in tags if t)


@dataclass(frozen=True)
class Range:
    """Matches a record whose numeric field lies in [low, high]; a missing value never matches."""

    field: str
    low: float | None = None
    high: float | None = None

    def __post_init__(self) -> None:
        if self.field not in NUMERIC_FIELDS:
            raise ValueError(f"unknown numeric field {self.field!r}; expected one of {NUMERIC_FIELDS}")
        if self.low is None and self.high is None:
            raise ValueError(f"range filter on {self.field!r} needs a low or a high bound")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"range filter on {self.field!r}: low {self.low} > high {self.high}")

    def matches(self, fields: Mapping[str, Any]) -> bool:
        value = fields.get(self.field)
        if value is None:
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


Clause = Tag | Range


@dataclass(frozen=True)
class Filter:
    """All clauses must match. An empty filter matches everything."""

    clauses: tuple[Clause, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.clauses)

    def __and__(self, other: Filter | Clause) -> Filter:
        extra = other.clauses if isinstance(other, Filter) else (other,)
        return Filter(self.clauses + extra)

    def matches(self, fields: Mapping[str, Any]) -> bool:
        """Whether a record's fields (as Book.index_fields gives them) pass every clause."""
        return all(clause.matches(fields) for clause in self.clauses)

    @classmethod
    def of(cls, *clauses: Clause | None) -> Filter:
        """A filter from the clauses that are not None."""
        return cls(tuple(c for c in clauses if c is not None))
