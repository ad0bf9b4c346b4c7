"""Boosts after ranking: bounded score additions (promoted books, recent years, described books for
thin histories), each named in the boosted book's reason. Scores are the ranker's scaled to [0, 1]
over the list, so a boost's delta (at most 0.5) is a share of the list's score range."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from vibeshelf.config.ranking import BoostSettings, DescriptionBoost, PromotedBoost, RecentBoost
from vibeshelf.recommend.twostage.ranked import ListContext, Ranked


class Boost(ABC):
    name: ClassVar[str]

    def __init__(self, delta: float) -> None:
        self.delta = delta

    @abstractmethod
    def applies(self, item: Ranked, context: ListContext) -> bool: ...

    def explain(self, item: Ranked) -> str:
        return f"+{self.delta:g} {self.name}"


class Promoted(Boost):
    name = "promoted"

    def __init__(self, delta: float, books: frozenset[str]) -> None:
        super().__init__(delta)
        self.books = books

    def applies(self, item: Ranked, context: ListContext) -> bool:
        return item.item_id in self.books


class Recent(Boost):
    name = "recent"

    def __init__(self, delta: float, since: int) -> None:
        super().__init__(delta)
        self.since = since

    def applies(self, item: Ranked, context: ListContext) -> bool:
        return item.facts.year is not None and item.facts.year >= self.since

    def explain(self, item: Ranked) -> str:
        return f"+{self.delta:g} recent (published {item.facts.year}, since {self.since})"


class HasDescription(Boost):
    name = "has_description"

    def __init__(self, delta: float, max_history: int) -> None:
        super().__init__(delta)
        self.max_history = max_history

    def applies(self, item: Ranked, context: ListContext) -> bool:
        return item.facts.has_description and context.history_size <= self.max_history


def apply_boosts(
    items: list[Ranked], boosts: Sequence[Boost], context: ListContext
) -> list[Ranked]:
    """Add each applying boost's delta and its reason, then re-sort by score (stable)."""
    for item in items:
        for boost in boosts:
            if boost.applies(item, context):
                item.score += boost.delta
                item.reasons.append(boost.explain(item))
    return sorted(items, key=lambda i: -i.score)


def read_promoted(path: Path) -> frozenset[str]:
    """Book ids, one a line ('#' comments and blank lines skipped); a missing file promotes nothing."""
    if not path.is_file():
        return frozenset()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return frozenset(line for line in lines if line)


def make_boosts(settings: Sequence[BoostSettings], data_dir: Path) -> list[Boost]:
    """Boost objects from the settings list; promoted files are read relative to the data dir."""
    boosts: list[Boost] = []
    for s in settings:
        match s:
            case PromotedBoost():
                boosts.append(Promoted(s.delta, read_promoted(data_dir / s.file)))
            case RecentBoost():
                boosts.append(Recent(s.delta, s.since))
            case DescriptionBoost():
                boosts.append(HasDescription(s.delta, s.max_history))
    return boosts
