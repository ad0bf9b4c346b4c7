"""Mood words and figures of speech in a vibe query read as the words books' genres and blurbs use."""

from __future__ import annotations

import re
from collections.abc import Iterable

# A reader's mood word -> the words a book's genres or blurb use for it. No goodbooks shelf names
# a mood ("funny", "sad" were filtered out of its tags), so a mood reaches a book only through
# its description and vector: the blurb of a comic novel says "hilarious" or "satire", not "funny".
MOODS: dict[str, tuple[str, ...]] = {
    r"funny|hilarious|humou?rous|comedic|witty|laugh(?:-out-loud| out loud)?|lol": (
        "humor", "hilarious", "comedy", "witty", "satire",
    ),
    r"scary|creepy|spooky|terrifying|chilling|frightening": (
        "horror", "terrifying", "haunted", "creepy",
    ),
    r"feel-?good|uplifting|heartwarming|wholesome|cheer (?:me|you) up|comforting": (
        "heartwarming", "uplifting", "charming", "hope", "friendship",
    ),
    r"romantic|swoon-?worthy|swoony|steamy": ("romance", "love"),
    r"suspenseful|page-?turners?|gripping|edge of (?:my|your) seat": (
        "thriller", "suspense", "gripping",
    ),
    r"thought-?provoking|mind-?bending|philosophical": ("philosophy", "thought-provoking"),
    r"inspiring|inspirational|life-?changing|changed (?:my|your) life": (
        "inspirational", "inspiring", "life",
    ),
    r"whimsical|quirky": ("whimsical", "quirky", "charming", "magical"),
}
# Figures of speech whose words are not what the book is about: "books that make you cry" asks
# for no book with "cry" in its title (Cry, the Beloved Country; The Crying of Lot 49), "baby
# fever" for no fever. The phrase leaves the searched text; the words for its meaning are added.
IDIOMS: dict[str, tuple[str, ...]] = {
    r"(?:make|makes|made|making) (?:me|you|us|one|people|readers?) (?:cry|sob|weep|tear up)"
    r"|tear-?jerk(?:er|ers|ing)|(?:bring|brings|brought) (?:me|you) to tears|ugly[ -]cry(?:ing)?": (
        "heartbreaking", "tragic", "poignant", "emotional",
    ),
    r"(?:make|makes|made|making) (?:me|you|us|one|people|readers?) (?:laugh|giggle|smile|chuckle)"
    r"(?: out loud)?": ("humor", "hilarious", "comedy", "witty", "satire"),
    r"(?:keep|keeps|kept|keeping) (?:me|you|us|one) (?:up|awake)(?: at night| all night)?"
    r"|(?:can'?t|couldn'?t|cannot|won'?t) (?:put|set) (?:it )?down": ("thriller", "suspense", "gripping"),
    r"give (?:me|you) (?:the )?(?:chills|creeps|goosebumps)": ("horror", "terrifying", "creepy"),
    r"baby fever|(?:want|wanting|longing for|yearning for) a baby": (
        "baby", "motherhood", "pregnancy", "mother", "parenting",
    ),
}
_IDIOMS = [
    (re.compile(rf"(?<![\w-])(?:{words})(?![\w-])", re.IGNORECASE), added) for words, added in IDIOMS.items()
]
_MOODS = [(re.compile(rf"(?<![\w-])(?:{words})(?![\w-])", re.IGNORECASE), added) for words, added in MOODS.items()]


def idioms(text: str) -> tuple[str, list[str], list[str]]:
    """`text` without its figures of speech, the figures found, and the words of their meanings
    that the text does not hold ("books that make you cry" -> "books that", ["make you cry"],
    [heartbreaking, tragic, ...])."""
    found: list[str] = []
    meant: list[str] = []
    for pattern, words in _IDIOMS:
        matches = [m.group(0) for m in pattern.finditer(text)]
        if matches:
            found += matches
            meant += words
            text = pattern.sub(" ", text)
    kept = " ".join(text.split()).strip(" ,;:")
    return kept, found, _missing(meant, kept)


def mood_words(text: str) -> list[str]:
    """The book words of each mood `text` names that it does not hold already ("funny sci-fi" ->
    humor, hilarious, comedy, witty, satire); none when it names no mood."""
    return _missing((w for pattern, words in _MOODS if pattern.search(text) for w in words), text)


def _missing(words: Iterable[str], text: str) -> list[str]:
    """`words`, each once and in order, less those `text` holds as whole words."""
    lower = text.lower()
    return [w for w in dict.fromkeys(words) if not re.search(rf"\b{re.escape(w)}\b", lower)]
