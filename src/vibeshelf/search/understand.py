"""Query understanding: a reader's text -> an Interpreted (a book to go by, an author, a title, a vibe)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from rapidfuzz import fuzz, process

from vibeshelf.catalog.books import Book
from vibeshelf.catalog.series import (
    is_companion,
    reading_order,
    series_of,
    without_article,
    words_key,
)
from vibeshelf.search.chatter import without_small_talk
from vibeshelf.search.formats import is_adaptation
from vibeshelf.search.moods import idioms, mood_words
from vibeshelf.search.schemas import Interpreted

# "books like X", "similar to X", "if I liked X": X is a book to go by.
_LIKE = re.compile(
    r"^(?:(?:some|any|more|other)?\s*(?:books?|novels?|reads?|something|anything|stuff|titles?)\s+"
    r"(?:like|similar to|in the vein of|along the lines of)"
    r"|(?:similar to|like|more like|read-?alikes? (?:for|of|to))"
    r"|(?:if|since|because) (?:i|you) (?:liked|loved|enjoyed|like|love|enjoy|adored))\s+(.+)$",
    re.IGNORECASE,
)
# What the reader adds after the book: "X but set in the 1950s", "X, but funnier".
_BUT = re.compile(r"\s*(?:,|;|\s-\s)?\s*\b(?:but|except)\b\s+", re.IGNORECASE)
# "X, what should I read next?" and the like: everything after the book that steers nothing.
_TAIL = re.compile(
    r"\s*[,;.!?]\s*(?:what|which|any|anything|recommend|suggest|please|thanks|thank you).*$",
    re.IGNORECASE,
)
# "<vibe> by <author>"; "by a dog", "by the sea" name no author.
_BY = re.compile(
    r"^(?:(.*?)\s+)?\bby\s+(?!(?:a|an|the|my|his|her|their|its|one|two)\b)(.+)$", re.IGNORECASE
)
_FILLER = re.compile(
    r"^(?:something|anything|books?|novels?|stuff|works?|more|the|some|any|everything|all|other)$"
)
_INITIAL = re.compile(r"^\w$")
# "divergent series", "percy jackson books": a series asked for by name (a words key).
_SERIES_ASK = re.compile(r"^(.+?) (?:book series|series|books|novels)$")
TITLE_CUTOFF = 86.0  # rapidfuzz ratio a typed title must reach (about one typo in ten letters)
AUTHOR_CUTOFF = 90.0


def _key(text: str) -> str:
    """The words of a title or name, lower case, without a series suffix or a leading article."""
    return without_article(words_key(text))


def _most_read(books: list[Book]) -> list[Book]:
    """Most read first, a work before its adaptations ("The Hobbit" before its graphic novel)."""
    return sorted(books, key=lambda b: (is_adaptation(b.title), -b.ratings_count, b.book_id))


def _series_names(books: list[Book]) -> set[str]:
    """The series names the titles of `books` carry."""
    return {found[0] for b in books if (found := series_of(b.title)) is not None}


def _name_keys(author: str) -> set[str]:
    """The keys an author is typed by: the full name, without initials, and its trailing words
    ("Ursula K. Le Guin": "ursula k le guin", "ursula le guin", "le guin", "guin")."""
    words = words_key(author).split()
    plain = [w for w in words if not _INITIAL.match(w)]
    keys = {" ".join(words), " ".join(plain)}
    keys.update(" ".join(plain[i:]) for i in range(1, len(plain)))
    return keys - {""}


class Interpreter:
    """Reads a query against a catalog's titles, series and authors; anything else is a vibe."""

    def __init__(self, books: Iterable[Book]) -> None:
        titles: dict[str, list[Book]] = defaultdict(list)
        mains: dict[str, list[Book]] = defaultdict(list)  # titles without their subtitles
        series: dict[str, list[tuple[float, Book]]] = defaultdict(list)
        authors: dict[str, list[Book]] = defaultdict(list)
        surnames: dict[str, set[str]] = defaultdict(set)
        for book in books:
            key = _key(book.title)
            if key:
                titles[key].append(book)
                main = _key(book.title.split(":", 1)[0])
                if main and main != key:
                    mains[main].append(book)
            name_number = series_of(book.title)
            if name_number is not None:
                series[_key(name_number[0])].append((name_number[1], book))
            for author in book.authors:
                full = words_key(author)
                if full:
                    authors[full].append(book)
                    for name in _name_keys(author):
                        surnames[name].add(full)
        self.series = {
            name: [b for _, b in sorted(numbered, key=lambda nb: (reading_order(nb[0]), -nb[1].ratings_count))]
            for name, numbered in series.items()
            if len({n for n, _ in numbered}) > 1
        }
        # A title names its book, unless it is an omnibus of the series of that name ("The Lord of
        # the Rings (The Lord of the Rings, #1-3)"); else a series names its first book ("harry
        # potter" is not "Harry Potter: Film Wizardry"); else a title without its subtitle does.
        numbered = {words_key(name) for shelf in self.series.values() for name in _series_names(shelf)}
        self.titles = {
            **{key: _most_read(books) for key, books in mains.items()},
            **{name: [shelf[0]] for name, shelf in self.series.items()},
            **{
                key: _most_read(books) for key, books in titles.items()
                if key not in self.series or not all(is_companion(b.title, numbered) for b in books)
            },
        }
        self.title_keys = list(self.titles)
        self.authors = {key: _most_read(books) for key, books in authors.items()}
        self.readers = {k: sum(b.ratings_count for b in v) for k, v in self.authors.items()}
        self.name_words: dict[str, list[str]] = defaultdict(list)  # a name's word -> full names
        for full in self.authors:
            for word in set(full.split()):
                self.name_words[word].append(full)
        self.surnames = {  # a surname names its most read author
            name: max(fulls, key=lambda full: (self.readers[full], full)) for name, fulls in surnames.items()
        }

    def interpret(self, text: str) -> Interpreted:
        """What `text` (a sanitised query) asks for; the words left to search by are `vibe`."""
        body, dropped = without_small_talk(text)
        like = _LIKE.match(body)
        if like:
            found = self._like(like.group(1), strict=False)
            if found is not None:
                book, steer, tail = found
                dropped.append(body[: like.start(1)].strip())
                dropped.extend([tail] if tail else [])
                return Interpreted(kind="like_book", book_id=book.book_id, title=book.title,
                                   vibe=steer, dropped=dropped)
        if _BUT.search(body):
            found = self._like(body, strict=True)
            if found is not None:
                book, steer, tail = found
                return Interpreted(kind="like_book", book_id=book.book_id, title=book.title,
                                   vibe=steer, dropped=dropped + ([tail] if tail else []))
        key = _key(body)
        if key in self.series:
            return Interpreted(kind="title", series=body, vibe=body, dropped=dropped)
        named = self._series_asked(key)
        if named is not None:
            return Interpreted(kind="title", series=named, vibe=body, dropped=dropped)
        if key in self.titles:
            return Interpreted(kind="title", book_id=self.titles[key][0].book_id,
                               title=self.titles[key][0].title, vibe=body, dropped=dropped)
        by = _BY.match(body)
        author = self._author(by.group(2), loose=True) if by else self._author(body, loose=False)
        if author is not None:
            vibe = (by.group(1) or "") if by else ""
            if _FILLER.match(vibe.lower().strip()):
                dropped.append(vibe.strip())
                vibe = ""
            return Interpreted(kind="author", author=author, vibe=vibe.strip(), dropped=dropped)
        kept, figures, meant = idioms(body)
        added = meant + [w for w in mood_words(kept) if w not in meant]
        return Interpreted(kind="vibe", vibe=kept, dropped=dropped + figures, added=added)

    def _series_asked(self, key: str) -> str | None:
        """The series a query asks for as "<name> series|books|novels": the series of that name,
        else (two words or more) the most read series whose name starts with them ("percy
        jackson" names "Percy Jackson and the Olympians")."""
        asked = _SERIES_ASK.match(key)
        if asked is None:
            return None
        name = without_article(asked.group(1))
        if name in self.series or len(name.split()) < 2:
            return name if name in self.series else None
        longer = [s for s in self.series if s.startswith(f"{name} ")]
        return max(longer, key=lambda s: (self.series[s][0].ratings_count, s)) if longer else None

    def series_books(self, name: str) -> list[Book]:
        """The books of a series, in order."""
        return self.series.get(_key(name), [])

    def author_books(self, author: str) -> list[Book]:
        """An author's books, most read first."""
        return self.authors.get(words_key(author), [])

    def _like(self, text: str, strict: bool) -> tuple[Book, str, str] | None:
        """The book `text` starts with, the words that steer (after "but"), and the tail dropped;
        `strict` (no "books like" before it) asks for a closer title match."""
        parts = _BUT.split(text, maxsplit=1)
        steer = parts[1].strip(" ,.;!?") if len(parts) > 1 else ""
        named = parts[0]
        tail = _TAIL.search(named)
        if tail:
            named = named[: tail.start()]
        named = named.strip(" ,.;!?\"'")
        book = self._title(named, TITLE_CUTOFF + (8 if strict else 0)) or self._title_by(named)
        if book is None:
            return None
        return book, steer, tail.group(0).strip(" ,;.") if tail else ""

    def _title(self, typed: str, cutoff: float) -> Book | None:
        """The catalog book whose title (or series) `typed` names, forgiving case, articles, a
        series suffix and small typos; the most read of equals."""
        key = _key(typed)
        if not key:
            return None
        if key in self.titles:
            return self.titles[key][0]
        best = process.extractOne(key, self.title_keys, scorer=fuzz.ratio, score_cutoff=cutoff)
        return None if best is None else self.titles[best[0]][0]

    def _title_by(self, typed: str) -> Book | None:
        """The book "<title> by <author>" names ("the road by cormac mccarthy"): the title matched
        among that author's books only."""
        by = _BY.match(typed)
        author = self._author(by.group(2), loose=True) if by and by.group(1) else None
        if by is None or author is None:
            return None
        books = {_key(b.title): b for b in reversed(self.author_books(author))}  # most read wins
        best = process.extractOne(_key(by.group(1)), list(books), scorer=fuzz.ratio, score_cutoff=TITLE_CUTOFF)
        return None if best is None else books[best[0]]

    def _author(self, typed: str, loose: bool) -> str | None:
        """The author `typed` names: a full name (small typos forgiven) or, after "by", a surname."""
        key = words_key(typed)
        if not key:
            return None
        if key in self.authors:
            return self.authors[key][0].authors[self._position(self.authors[key][0], key)]
        if loose and key in self.surnames:
            full = self.surnames[key]
        else:
            plain = " ".join(w for w in key.split() if not _INITIAL.match(w))
            if plain in self.surnames and len(plain.split()) > 1:
                full = self.surnames[plain]
            elif 1 < len(key.split()) < 5:  # a typo in one word: the other is spelled right
                names = {full for word in key.split() for full in self.name_words.get(word, ())}
                best = process.extractOne(key, names, scorer=fuzz.ratio, score_cutoff=AUTHOR_CUTOFF)
                if best is None:
                    return None
                full = best[0]
            else:
                return None
        book = self.authors[full][0]
        return book.authors[self._position(book, full)]

    @staticmethod
    def _position(book: Book, key: str) -> int:
        return next(i for i, a in enumerate(book.authors) if words_key(a) == key)
