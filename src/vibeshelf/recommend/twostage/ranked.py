"""A ranked list's items and the context rules and boosts read (who it is for, how long it must be)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from vibeshelf.recommend.twostage.books import BookFacts


@dataclass
class Ranked:
    """A candidate in the ranked list: its final score, the ranker's, and why it is where it is."""

    item_id: str
    score: float
    facts: BookFacts
    ranker_score: float = 0.0
    sources: tuple[str, ...] = ()
    reasons: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


@dataclass(frozen=True)
class ListContext:
    """The reader's read books and, per series they read from, the furthest number read; their
    history size, and how many books the list must hold."""

    k: int
    read: frozenset[str] = frozenset()
    history_size: int = 0
    read_series: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, k: int, read: Collection[str], books: Mapping[str, BookFacts]) -> ListContext:
        """The context of a reader who has read `read`, series looked up in `books`."""
        furthest: dict[str, float] = {}
        for book_id in read:
            facts = books.get(book_id)
            if facts is not None and facts.series is not None:
                key, number = facts.series
                furthest[key] = max(number, furthest.get(key, number))
        return cls(k, frozenset(read), len(read), furthest)


@dataclass(frozen=True)
class Move:
    """A rule moved a book: 1-based positions, `to` None when it removed it."""

    item_id: str
    rule: str
    from_position: int
    to_position: int | None


@dataclass(frozen=True)
class Relaxation:
    """A rule that could not be met on this list, and what it did instead."""

    rule: str
    detail: str
