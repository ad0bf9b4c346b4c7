"""Picture books for young children, and whether a query asks for them or for a mood they lack."""

from __future__ import annotations

import re

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.search.formats import SPECIFIC

# Canonical genres of books made for small children to be read to, not for the reader asking.
YOUNG_GENRES = frozenset({"picture books"})
# Words of a query that asks for books for children ("picture books for kids", "to read aloud
# to toddlers", "bedtime stories", "for my 5 year old").
_ASKS = re.compile(
    r"\b(?:kids?|kiddos?|child|children'?s?|childhood|toddlers?|preschool(?:ers?)?|kindergarten"
    r"|nursery|little ones?|babies|infants?|bedtime|read(?:ing)?[ -]aloud|picture[ -]books?"
    r"|board[ -]books?|early readers?|beginner books?|young readers?|grand(?:kids|children)"
    r"|(?:my|a|our|the) (?:baby|son|daughter|nephew|niece)|\d+[ -]?(?:years?|yrs?)[ -]?olds?)\b",
    re.IGNORECASE,
)

# Moods a picture book does not have: "heartbreaking book about a dog" is not Go, Dog. Go!.
_GROWN_UP = re.compile(
    r"\b(?:sad|saddest|heartbreak(?:ing|er)?|heart-?wrenching|gut-?wrenching|tear-?jerkers?"
    r"|(?:make|made|makes) (?:me|you) (?:cry|sob|weep)|cry(?:ing)?|sob|weep(?:y|ing)?|tragic|tragedy"
    r"|devastating|depressing|bleak|grief|grieving|grim|gritty|dark|darker|disturbing|haunting"
    r"|harrowing|brutal|violent|gory|steamy|sexy|erotic|spicy|smutty|explicit|mature|grown-?ups?"
    r"|for adults)\b",
    re.IGNORECASE,
)


def asks_for_young(query: str) -> bool:
    """Whether a query asks for books for young children by one of the words above."""
    return bool(_ASKS.search(query))


def grown_up_mood(query: str) -> bool:
    """Whether a query asks for a mood that books for young children lack (sad, dark, steamy)
    without asking for such books."""
    return bool(_GROWN_UP.search(query)) and not asks_for_young(query)


def young_books(catalog: BookCatalog) -> frozenset[str]:
    """The catalog's books for young children: those whose most specific genres hold picture
    books (none in a catalog without genres)."""
    return frozenset(
        b.book_id for b in catalog if any(g in YOUNG_GENRES for g in b.genres[:SPECIFIC])
    )
