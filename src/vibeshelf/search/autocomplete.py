"""Autocomplete for the search box: titles, authors and shelves, then queries people often search."""

from __future__ import annotations

import bisect
import os
import re
import threading
from collections import defaultdict
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import orjson

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.catalog.series import words_key
from vibeshelf.catalog.shelves import shelf_phrase
from vibeshelf.search.querylog import log_files

Kind = Literal["title", "author", "shelf", "query"]
MIN_SESSIONS = 3  # a logged query is suggested once this many reader sessions searched it
MAX_QUERIES = 100_000  # distinct queries tracked; past it, those not yet popular are forgotten
MAX_SESSIONS = 1_000  # sessions remembered per query (its weight stops growing there)
# A scheme, "www.", an "@" (e-mail) or a dotted name ending in letters (evil.example): a link.
LINK_LIKE = re.compile(r"\w+://|\bwww\.|@|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.IGNORECASE)


@dataclass(frozen=True)
class Suggestion:
    """One completion: the text to search and where it comes from."""

    text: str
    kind: Kind
    weight: float


class PopularQueries:
    """Queries that returned results, with the distinct returning reader sessions that searched
    them, read incrementally from the query log and, after it rotated, from its rotated files:
    every line once.

    Only entries that name a session count (the server logs one only when a client came back with
    the signed session it was given), and a query is popular once `min_sessions` sessions searched
    it: one client repeating a search cannot make it a suggestion alone. Text that looks like a
    link, a domain or an e-mail address is never kept. Memory is bounded: at most `max_queries`
    queries with at most `max_sessions` sessions each; when a new query finds the table full, the
    queries not yet popular are dropped.
    """

    def __init__(
        self, path: Path, min_sessions: int = MIN_SESSIONS, max_queries: int = MAX_QUERIES,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self.path = path
        self.min_sessions = min_sessions
        self.max_queries = max_queries
        self.max_sessions = max_sessions
        self.sessions: defaultdict[str, set[str]] = defaultdict(set)
        self.display: dict[str, str] = {}
        self._inode: int | None = None  # the file read last, and up to where
        self._offset = 0
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Read the lines appended since the last call (a complete line at a time)."""
        with self._lock, ExitStack() as stack:
            try:
                unmoved = os.stat(self.path).st_ino == self._inode
            except FileNotFoundError:
                return  # being rotated: the next call reads on
            handles = []
            for path in [self.path] if unmoved else log_files(self.path):
                with suppress(FileNotFoundError):
                    handles.append(stack.enter_context(path.open("rb")))
            inodes = [os.fstat(fh.fileno()).st_ino for fh in handles]
            start = inodes.index(self._inode) if self._inode in inodes else 0
            for fh, inode in zip(handles[start:], inodes[start:], strict=True):
                self._read(fh, inode)

    def _read(self, fh: BinaryIO, inode: int) -> None:
        """Count the complete lines of one log file not counted yet."""
        offset = self._offset if inode == self._inode else 0
        fh.seek(offset)
        data = fh.read()
        end = data.rfind(b"\n") + 1
        self._inode, self._offset = inode, offset + end
        for line in data[:end].splitlines():
            self._count(line)

    def _count(self, line: bytes) -> None:
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            return
        if not isinstance(entry, dict) or not entry.get("results"):
            return
        query, session = entry.get("query"), entry.get("session")
        if isinstance(query, str) and isinstance(session, str) and not LINK_LIKE.search(query):
            key = words_key(query)
            if key not in self.sessions and len(self.sessions) >= self.max_queries:
                self._forget_unpopular()
            found = self.sessions[key]
            if len(found) < self.max_sessions:
                found.add(session)
            self.display.setdefault(key, query)

    def _forget_unpopular(self) -> None:
        for key in [k for k, found in self.sessions.items() if len(found) < self.min_sessions]:
            del self.sessions[key], self.display[key]

    def popular(self) -> list[tuple[str, str, int]]:
        """(key, query as first typed, sessions) for queries `min_sessions` sessions searched."""
        return [
            (k, self.display[k], len(found))
            for k, found in self.sessions.items()
            if len(found) >= self.min_sessions
        ]


class Autocomplete:
    """Prefix matches at any word start, best first: whole-text prefixes, then weight (popularity)."""

    def __init__(self, catalog: BookCatalog, popular: PopularQueries | None = None) -> None:
        self.popular = popular
        entries: dict[tuple[str, Kind], Suggestion] = {}
        scale = max(1, catalog.max_ratings_count)
        for book in catalog:
            weight = book.ratings_count / scale
            for text, kind in [(book.title, "title"), *((a, "author") for a in book.authors)]:
                key = (words_key(text), kind)
                if key[0] and (key not in entries or entries[key].weight < weight):
                    entries[key] = Suggestion(text, kind, weight)  # type: ignore[arg-type]
        top_shelf = max(catalog.shelf_counts.values(), default=1)
        for shelf, count in catalog.shelf_counts.items():
            entries[(words_key(shelf_phrase(shelf)), "shelf")] = Suggestion(
                shelf_phrase(shelf), "shelf", count / top_shelf
            )
        self._suggestions = list(entries.values())
        self._keys = [key for key, _ in entries]
        self._index = _word_starts(self._keys)

    def suggest(self, prefix: str, limit: int = 8) -> list[Suggestion]:
        """Up to `limit` completions of `prefix` (case and punctuation ignored)."""
        key = words_key(prefix)
        if not key:
            return []
        found: dict[tuple[str, str], tuple[tuple[float, ...], Suggestion]] = {}
        lo = bisect.bisect_left(self._index, (key,))
        for suffix, i in self._index[lo:]:
            if not suffix.startswith(key):
                break
            s = self._suggestions[i]
            rank = (self._keys[i].startswith(key), s.weight, KIND_ORDER[s.kind])
            found[(self._keys[i], s.kind)] = (rank, s)
        if self.popular is not None:
            self.popular.refresh()
            most = max((n for _, _, n in self.popular.popular()), default=1)
            for qkey, text, n in self.popular.popular():
                if qkey.startswith(key) or f" {key}" in f" {qkey}":
                    suggestion = Suggestion(text, "query", 1.0 + n / most)  # above catalog entries
                    found[(qkey, "query")] = ((qkey.startswith(key), suggestion.weight, 3), suggestion)
        ranked = sorted(found.values(), key=lambda rs: rs[0], reverse=True)
        return [s for _, s in ranked[:limit]]


# Ties on weight: popular searches, then titles, authors, shelves.
KIND_ORDER: dict[str, int] = {"query": 3, "title": 2, "author": 1, "shelf": 0}


def _word_starts(keys: list[str]) -> list[tuple[str, int]]:
    """Every key's suffix from each word start, sorted, for bisecting prefixes."""
    out = []
    for i, key in enumerate(keys):
        start = 0
        while start != -1:
            out.append((key[start:], i))
            start = key.find(" ", start)
            start = start + 1 if start != -1 else -1
    out.sort()
    return out
