"""What a book's title says of its series: name and number, omnibus ranges, companions, reading order."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

_SUFFIX = re.compile(r"\s*\(([^)]*#[^)]*)\)\s*$")
_NON_WORD = re.compile(r"[^\w]+")
_ARTICLE = re.compile(r"^(?:the|a|an) ")
# One series of a suffix: "The Hunger Games, #2", "Dune Chronicles #1".
_NUMBERED = re.compile(r"^(.*?),?\s*#\s*(\d+(?:\.\d+)?)$")
# An omnibus: "The Hunger Games, #1-3", "Twilight, #1-4 + 3.5", "Divergent, #0.1 - 0.4".
_RANGE = re.compile(r"^(.*?),?\s*#\s*\d+(?:\.\d+)?\s*-\s*\d+(?:\.\d+)?\b")
_COMPANION = re.compile(
    r"\b(box(?:ed)?[ -]?sets?|boxset|collection|omnibus|complete (?:series|novels|works)|trilogy"
    r"|quartet|books? \d+\s*-\s*\d+|companion|(?:tribute|official|ultimate|unofficial|"
    r"illustrated) guide|guide to the (?:world|films?|movies?|series)|the world of"
    r"|the (?:art|making|science) of (?:the )?(?:film|movie)s?|coloring book|colouring book"
    r"|activity book)\b",
    re.IGNORECASE,
)


def _first_series(title: str) -> str | None:
    """The first series of a title's "(...#...)" suffix: "Discworld, #25" of "(Discworld, #25;
    Industrial Revolution, #2)"."""
    found = _SUFFIX.search(title)
    return found.group(1).split(";")[0].strip() if found else None


def series_of(title: str) -> tuple[str, float] | None:
    """(series name, number) from a goodbooks-style suffix, "X (The Hunger Games, #2)"; the first
    series where a book is in several; None without one or for a range ("#1-3")."""
    part = _first_series(title)
    found = _NUMBERED.match(part) if part else None
    if found is None or not found.group(1).strip():
        return None
    return found.group(1).strip(), float(found.group(2))


def series_key(title: str) -> tuple[str, float] | None:
    """series_of with the name as a words key: "Specials (Uglies, #3)" -> ("uglies", 3.0)."""
    found = series_of(title)
    return (words_key(found[0]), found[1]) if found is not None else None


def collected_series(title: str) -> str | None:
    """The series key an omnibus collects, by its range suffix: "Harry Potter Boxset (Harry
    Potter, #1-7)" -> "harry potter"; None for any other title."""
    part = _first_series(title)
    found = _RANGE.match(part) if part else None
    return words_key(found.group(1)) or None if found else None


def is_companion(title: str, numbered: Collection[str] = ()) -> bool:
    """Whether a title is a box set, omnibus, movie companion, guide... rather than a work: by
    its words, or as a range of a series ("(Dune, #1-3)") whose own books (`numbered`, series
    keys) are in the catalog."""
    if _COMPANION.search(_SUFFIX.sub("", title)):
        return True
    collected = collected_series(title)
    return collected is not None and collected in numbered


def asks_for_companions(text: str) -> bool:
    """Whether a text asks for box sets, collections, guides and the like by name."""
    return bool(_COMPANION.search(text))


def reading_order(number: float) -> tuple[bool, float]:
    """A sort key of series numbers: the whole books from #1 in order, then the novellas and
    extras between them (#0.5, #1.5)."""
    return number < 1 or not number.is_integer(), number


def in_reading_order(ids: Sequence[str], series: Mapping[str, tuple[str, float]]) -> list[str]:
    """`ids` (best first) with the places a series' books hold refilled by those books in
    reading order; `series` maps a book to its (series key, number). A reader starts at #1."""
    places: dict[str, list[int]] = {}
    for place, book_id in enumerate(ids):
        found = series.get(book_id)
        if found is not None:
            places.setdefault(found[0], []).append(place)
    out = list(ids)
    for held in places.values():
        if len(held) > 1:
            books = sorted((ids[p] for p in held), key=lambda i: reading_order(series[i][1]))
            for place, book_id in zip(held, books):
                out[place] = book_id
    return out


def words_key(text: str) -> str:
    """Lower-case words without a series suffix: "Dune (Dune Chronicles #1)" -> "dune"."""
    return " ".join(_NON_WORD.sub(" ", _SUFFIX.sub("", text).lower()).split())


def without_article(key: str) -> str:
    """A words key less its leading article: "the hobbit" -> "hobbit"."""
    return _ARTICLE.sub("", key)


def title_key(title: str, first_author: str) -> str:
    """Normalised "title|author" with the series suffix removed: "Dune (Dune #1)" -> "dune|..."."""
    return words_key(title) + "|" + words_key(first_author)
