"""Small talk in a reader's query: the leading greeting and the sentences about the asking or the asker."""

from __future__ import annotations

import re

from vibeshelf.search.query import SENTENCE_END

# Leading small talk that says nothing about the book: dropped before anything else.
_PREAMBLE = re.compile(
    r"^(?:(?:hi|hello|hey|hiya|greetings|ok|okay|please|help)"
    r"(?: (?:everyone|everybody|all|folks|there|guys|friends|y'?all))?\b[\s!,.:;-]*"
    r"|(?:i'?m|i am|we'?re|we are) (?:looking|searching|trying to find)(?: for)?\b[\s,:]*"
    r"|(?:i'?d|i would) like(?: to (?:read|find))?\b[\s,:]*"
    r"|(?:can|could) (?:anyone|anybody|someone|somebody|you) "
    r"(?:help me (?:find|identify)|recommend|suggest|tell me)\b[\s,:]*"
    r"|(?:does|do) (?:anyone|anybody|someone|somebody) (?:remember|know)\b[\s,:]*"
    r"|(?:recommend|suggest|find|show)(?: me)?\b[\s,:]*"
    r"|(?:i want|i need)(?: to read)?\b[\s,:]*)",
    re.IGNORECASE,
)
# A short sentence of a post that is about the asking, not the book: dropped.
_CHATTER = re.compile(
    r"\b(?:thanks|thank you|thx|any help|appreciated?|(?:can'?t|cannot|can not|don'?t|do not) "
    r"(?:remember|recall|find)|forgot(?:ten)?|(?:the|its) (?:title|name|author)|ring a bell"
    r"|long shot|(?:does|do|can|could) (?:anyone|anybody|someone|somebody|you)"
    r"|help me (?:find|identify)|(?:read|found|borrowed) (?:it|this|this book|a book)|years ago"
    r"|as a (?:kid|child|teen(?:ager)?)|when i was (?:a |in |about )?(?:kid|child|young|\d+))\b",
    re.IGNORECASE,
)
# A sentence of a post told by the asker about themselves ("My grandmother gave it to me one
# summer"): it speaks in the first person, of no one in the book and of nothing it holds.
_FIRST_PERSON = re.compile(
    r"\b(?:i|i'?m|i'?ve|i'?d|i'?ll|me|my|mine|myself|we|we'?re|our|us)\b", re.IGNORECASE
)
_OF_THE_BOOK = re.compile(
    r"\b(?:he|she|they|his|her|hers|him|them|their|boy|girl|man|woman|men|women|kids?|child(?:ren)?"
    r"|teen(?:ager)?s?|family|characters?|protagonist|hero(?:ine)?|narrator"
    r"|about (?:a|an|the|some|two|three)"
    r"|there (?:was|were|is|are)|set (?:in|on|during)|takes? place|called|named"
    r"|the (?:main|plot|story|ending|end|world|book was about))\b",
    re.IGNORECASE,
)
CHATTER_WORDS = 16  # a sentence this long or longer is kept: it may tell of the book too


def without_small_talk(text: str) -> tuple[str, list[str]]:
    """`text` less its leading small talk ("Hi! I'm looking for") and, in a post of several
    sentences, its chatter (below); and what was dropped, in order."""
    dropped: list[str] = []
    body = text
    while (cut := _PREAMBLE.match(body)) and cut.end() > 0 and cut.end() < len(body):
        dropped.append(cut.group(0).strip(" ,:;"))
        body = body[cut.end():].lstrip(" ,:;!.")
    return _without_chatter(body, dropped), dropped


def _without_chatter(text: str, dropped: list[str]) -> str:
    """`text` less its short sentences about the asking ("Thanks in advance!") and its
    sentences about the asker ("I lost it when we moved house"), when some other sentence is
    left; those go to `dropped`."""
    parts = SENTENCE_END.split(text)
    if len(parts) < 2:
        return text
    chatter = [
        p for p in parts
        if (len(p.split()) < CHATTER_WORDS and _CHATTER.search(p))
        or (_FIRST_PERSON.search(p) and not _OF_THE_BOOK.search(p))
    ]
    if len(chatter) == len(parts):
        return text
    dropped.extend(chatter)
    return " ".join(p for p in parts if p not in chatter)
