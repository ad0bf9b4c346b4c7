"""Mood words in a vibe query widened to the words books' genres and blurbs use for that mood."""

from __future__ import annotations

import re

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
_MOODS = [(re.compile(rf"(?<![\w-])(?:{words})(?![\w-])", re.IGNORECASE), added) for words, added in MOODS.items()]


def mood_words(text: str) -> list[str]:
    """The book words of each mood `text` names that it does not hold already ("funny sci-fi" ->
    humor, hilarious, comedy, witty, satire); none when it names no mood."""
    lower = text.lower()
    added: list[str] = []
    for pattern, words in _MOODS:
        if pattern.search(text):
            added.extend(w for w in words if w not in added and not re.search(rf"\b{re.escape(w)}\b", lower))
    return added
