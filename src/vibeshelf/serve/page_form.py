"""The search page's form as typed: empty boxes mean no filter, other values are checked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast, get_args

from vibeshelf.search.schemas import (
    RATING_MAX,
    RATING_MIN,
    YEAR_MAX,
    YEAR_MIN,
    Mode,
    SearchParams,
)

MODES: tuple[str, ...] = get_args(Mode)
N = TypeVar("N", int, float)


class FormError(ValueError):
    """A form value the search cannot take; the message is for the reader."""


def _number(raw: str, parse: Callable[[str], N], low: N, high: N, label: str) -> N | None:
    """`raw` as a number within [low, high], None when empty."""
    text = raw.strip()
    if not text:
        return None
    kind = "a whole number" if parse is int else "a number"
    try:
        value = parse(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:  # also NaN, which no range holds
        raise FormError(f"{label} must be {kind} from {low:g} to {high:g}; leave it empty for any.")
    return value


@dataclass(frozen=True)
class SearchForm:
    """What the reader typed into each box, shown back as typed."""

    q: str = ""
    shelf: str = ""
    year_min: str = ""
    year_max: str = ""
    min_rating: str = ""
    mode: str = ""
    genre: str = ""

    @property
    def has_filters(self) -> bool:
        boxes = (self.shelf, self.genre, self.year_min, self.year_max, self.min_rating)
        return any(v.strip() for v in boxes)

    def params(self) -> SearchParams:
        """The search these boxes ask for; FormError names the first box it cannot take."""
        year_min = _number(self.year_min, int, YEAR_MIN, YEAR_MAX, "From year")
        year_max = _number(self.year_max, int, YEAR_MIN, YEAR_MAX, "To year")
        min_rating = _number(self.min_rating, float, RATING_MIN, RATING_MAX, "Min rating")
        if self.mode and self.mode not in MODES:
            raise FormError(f"Mode must be one of {', '.join(MODES)}; leave it empty for hybrid.")
        if year_min is not None and year_max is not None and year_min > year_max:
            raise FormError(f"From year ({year_min}) is after to year ({year_max}).")
        return SearchParams(
            q=self.q, shelves=[self.shelf] if self.shelf.strip() else [],
            genres=[self.genre] if self.genre.strip() else [], year_min=year_min,
            year_max=year_max, min_rating=min_rating, mode=cast(Mode, self.mode) or None,
            explain=True,
        )
