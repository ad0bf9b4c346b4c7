"""Business rules over a ranked list: filters (exclude read, language, minimum rating), series in
reading order and a genre cap.

A rule that cannot be met with the candidates at hand relaxes and says so (a Relaxation): a filter
that would leave fewer than k books keeps the best failing ones to fill the list; the genre cap
fills its window with the best remaining book when no book fits. Moves record what each rule did
to the top k: books removed, and books whose position it changed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from vibeshelf.catalog.series import in_reading_order
from vibeshelf.config.ranking import (
    ExcludeRead,
    Language,
    MaxPerGenre,
    MinRating,
    RuleSettings,
    SeriesOrder,
)
from vibeshelf.recommend.twostage.ranked import ListContext, Move, Ranked, Relaxation


@dataclass
class RuleOutcome:
    """A list after rules, with what they moved and where they relaxed."""

    items: list[Ranked]
    moves: list[Move] = field(default_factory=list)
    relaxations: list[Relaxation] = field(default_factory=list)


class Rule(ABC):
    name: ClassVar[str]

    @abstractmethod
    def apply(self, items: list[Ranked], context: ListContext) -> RuleOutcome:
        """The list with the rule applied."""


class FilterRule(Rule):
    """Keeps the books that pass; backfills from failing ones when fewer than k pass."""

    @abstractmethod
    def keep(self, item: Ranked, context: ListContext) -> bool: ...

    def apply(self, items: list[Ranked], context: ListContext) -> RuleOutcome:
        passing = [self.keep(item, context) for item in items]
        short = max(0, context.k - sum(passing))
        failing = [i for i, ok in enumerate(passing) if not ok]
        refill = set(failing[:short])
        kept = [item for i, item in enumerate(items) if passing[i] or i in refill]
        moves = [
            Move(items[i].item_id, self.name, i + 1, None)
            for i in failing
            if i not in refill and i < context.k
        ]
        relaxations = []
        if refill:
            relaxations.append(
                Relaxation(
                    self.name,
                    f"only {sum(passing)} of {context.k} books pass; kept {len(refill)} that do not",
                )
            )
            for i in sorted(refill):
                items[i].reasons.append(f"kept although it fails {self.name} (too few candidates)")
        return RuleOutcome(kept, moves, relaxations)


class ExcludeReadRule(FilterRule):
    """Drops the reader's books, and box sets of a series the reader has read from."""

    name = "exclude_read"

    def keep(self, item: Ranked, context: ListContext) -> bool:
        collects = item.facts.collects
        return item.item_id not in context.read and (
            collects is None or collects not in context.read_series
        )


class SeriesOrderRule(Rule):
    """The places a series' books hold in the top k are refilled by those books in reading order:
    "#6, #7, #5" becomes "#5, #6, #7". Only books after the furthest the reader has read of that
    series move (readers' histories are incomplete: an earlier book may be read), and no book
    enters or leaves the top k."""

    name = "series_order"

    def apply(self, items: list[Ranked], context: ListContext) -> RuleOutcome:
        top = items[: context.k]
        furthest = context.read_series
        series = {
            i.item_id: found
            for i in top
            if (found := i.facts.series) is not None and found[1] > furthest.get(found[0], 0.0)
        }
        if len(series) < 2:
            return RuleOutcome(items)
        before = {i.item_id: n for n, i in enumerate(top, start=1)}
        ordered = in_reading_order([i.item_id for i in top], series)
        result = [top[before[book_id] - 1] for book_id in ordered]
        moves = []
        for n, item in enumerate(result, start=1):
            if before[item.item_id] != n:
                item.reasons.append(f"placed in its series' reading order by {self.name}")
                moves.append(Move(item.item_id, self.name, before[item.item_id], n))
        return RuleOutcome(result + items[context.k :], moves)


class LanguageRule(FilterRule):
    name = "language"

    def __init__(self, languages: Sequence[str]) -> None:
        self.languages = set(languages)

    def keep(self, item: Ranked, context: ListContext) -> bool:
        return item.facts.language is None or item.facts.language in self.languages


class MinRatingRule(FilterRule):
    name = "min_rating"

    def __init__(self, rating: float) -> None:
        self.rating = rating

    def keep(self, item: Ranked, context: ListContext) -> bool:
        rating = item.facts.average_rating
        return rating is None or rating >= self.rating


class MaxPerGenreRule(Rule):
    """At most `limit` books of one canonical genre in the top `window`; others wait below it."""

    name = "max_per_genre"

    def __init__(self, limit: int, window: int) -> None:
        self.limit = limit
        self.window = window

    def violated(self, items: Sequence[Ranked]) -> bool:
        """Whether the list's top window breaks the cap."""
        counts = Counter(i.facts.genre for i in items[: self.window] if i.facts.genre)
        return any(n > self.limit for n in counts.values())

    def apply(self, items: list[Ranked], context: ListContext) -> RuleOutcome:
        remaining = list(items)
        chosen: list[Ranked] = []
        counts: Counter[str] = Counter()
        relaxations = []
        while remaining and len(chosen) < self.window:
            pick = next(
                (i for i in remaining if not i.facts.genre or counts[i.facts.genre] < self.limit),
                None,
            )
            if pick is None:
                pick = remaining[0]
                relaxations.append(
                    Relaxation(
                        self.name,
                        f"no candidate left outside the full genres; position {len(chosen) + 1} "
                        f"holds a {pick.facts.genre} book",
                    )
                )
            remaining.remove(pick)
            chosen.append(pick)
            if pick.facts.genre:
                counts[pick.facts.genre] += 1
        result = chosen + remaining
        before = {id(item): n for n, item in enumerate(items, start=1)}
        moves = [
            Move(item.item_id, self.name, before[id(item)], n)
            for n, item in enumerate(result, start=1)
            if before[id(item)] != n and min(before[id(item)], n) <= context.k
        ]
        for item in remaining:
            if before[id(item)] <= self.window:
                item.reasons.append(f"moved below the top {self.window} by {self.name}")
        return RuleOutcome(result, moves, relaxations)


def apply_rules(items: list[Ranked], rules: Sequence[Rule], context: ListContext) -> RuleOutcome:
    """Every rule in order over the list."""
    outcome = RuleOutcome(list(items))
    for rule in rules:
        step = rule.apply(outcome.items, context)
        outcome = RuleOutcome(
            step.items, outcome.moves + step.moves, outcome.relaxations + step.relaxations
        )
    return outcome


def make_rules(settings: Sequence[RuleSettings]) -> list[Rule]:
    """Rule objects from the settings list, in its order."""
    rules: list[Rule] = []
    for s in settings:
        match s:
            case MaxPerGenre():
                rules.append(MaxPerGenreRule(s.limit, s.window))
            case ExcludeRead():
                rules.append(ExcludeReadRule())
            case SeriesOrder():
                rules.append(SeriesOrderRule())
            case Language():
                rules.append(LanguageRule(s.languages))
            case MinRating():
                rules.append(MinRatingRule(s.rating))
    return rules
