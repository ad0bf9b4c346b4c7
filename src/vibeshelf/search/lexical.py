"""BM25 indexes (bm25s), one per field of each book, summed with per-field weights; persisted as
atomic builds beside the vectors."""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from vibeshelf.catalog.schema import read_books
from vibeshelf.index.storelib import new_build_id
from vibeshelf.search.lexical_fields import field_texts
from vibeshelf.search.topk import best_passing
from vibeshelf.storage import builds
from vibeshelf.storage.errors import StoreError

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG

IDS_FILE = "ids.json"
MANIFEST_FILE = "manifest.json"
BM25_DIR = "bm25"
K1 = 1.5
B = 0.75
_WORD = re.compile(r"[^\W_]{2,}")
_STOPWORDS = frozenset(STOPWORDS_EN)
_local = threading.local()
QUERY_STEMS_CACHED = 256


def terms(text: str) -> list[tuple[str, str]]:
    """(word, stem) for each searchable word: lower-cased, stop words dropped, English stems."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:  # PyStemmer objects are not thread-safe: one per thread
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
    return list(zip(words, stemmer.stemWords(words), strict=True))


def tokenize(text: str) -> list[str]:
    """The stems BM25 indexes and matches."""
    return [stem for _, stem in terms(text)]


@functools.lru_cache(maxsize=QUERY_STEMS_CACHED)
def query_stems(text: str) -> tuple[str, ...]:
    """tokenize(text) of a query, kept for the query's other readers (each BM25 field, the rerank
    features, the title-only check)."""
    return tuple(tokenize(text))


@dataclass
class LexicalManifest:
    """What a lexical build was made from."""

    count: int
    catalog_checksum: str
    build_id: str = ""
    built_at: str = ""
    build_seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    fields: list[str] = field(default_factory=lambda: ["document"])  # a build before fields had one


def _field_dir(name: str) -> str:
    """A field's bm25s directory in a build ("bm25" for the whole document, as before fields)."""
    return BM25_DIR if name == "document" else f"{BM25_DIR}-{name}"


class LexicalIndex:
    """BM25 scores for a query over every book, and the top ones that pass a filter.

    Each field has its own BM25 (own vocabulary, own length normalisation); a book's score is the
    sum of its fields' scores times the query's field weights, the whole document alone by default.
    """

    def __init__(
        self,
        ids: list[str],
        bm25: Mapping[str, bm25s.BM25],
        manifest: LexicalManifest,
        lease: IO[str] | None = None,
    ) -> None:
        self.ids = ids
        self.bm25 = dict(bm25)
        self.manifest = manifest
        self.lease = lease  # held while this index is served: pruning keeps its build
        self.position = {book_id: i for i, book_id in enumerate(ids)}

    @classmethod
    def build(cls, ids: Sequence[str], fields: Mapping[str, Sequence[str]], catalog_checksum: str) -> LexicalIndex:
        """Index each field's texts (a list per field, one text per book of `ids`); a field without
        a word in any book (no authors in the catalog, say) is left out, but the document."""
        bm25 = {}
        for name, texts in fields.items():
            tokens = [tokenize(text) for text in texts]
            if name == "document" or any(tokens):
                bm25[name] = bm25s.BM25(k1=K1, b=B)
                bm25[name].index(tokens, show_progress=False)
        manifest = LexicalManifest(
            len(ids), catalog_checksum, params={"k1": K1, "b": B, "stemmer": "english"}, fields=list(bm25)
        )
        return cls(list(ids), bm25, manifest)

    def field_scores(self, query: str, name: str) -> np.ndarray:
        """One field's BM25 score of every book for the query (zeros when no word matches): each
        query stem's precomputed postings (bm25s' eager score matrix) added in the query's order,
        as bm25s' get_scores adds them."""
        bm25 = self.bm25[name]
        vocab = bm25.vocab_dict
        scores = np.zeros(len(self.ids), dtype=bm25.dtype)
        stems = [vocab[s] for s in query_stems(query) if s in vocab]
        if not stems:
            return scores
        if bm25.nonoccurrence_array is not None:  # a BM25 variant (BM25L, BM25+) not built here
            return bm25.get_scores(stems)  # type: ignore[no-any-return]
        matrix = bm25.scores
        data, indices, indptr = matrix["data"], matrix["indices"], matrix["indptr"]
        for stem in stems:
            start, end = indptr[stem], indptr[stem + 1]
            scores[indices[start:end]] += data[start:end]  # a book once per stem: no repeats
        return scores

    def scores(self, query: str, weights: Mapping[str, float] | None = None) -> np.ndarray:
        """The sum of the fields' BM25 scores of every book for the query, each times its weight.
        A field this build lacks, or weighted 0, is skipped; with none left (or no `weights`)
        the whole document's score alone. A new array each call: the caller may change it."""
        used = {name: w for name, w in (weights or {}).items() if w > 0 and name in self.bm25}
        if not used:
            return self.field_scores(query, "document").copy()  # eval/fit_lexical_fields.py caches them
        total = np.zeros(len(self.ids), dtype=np.float32)
        for name, weight in used.items():
            total += np.float32(weight) * self.field_scores(query, name)
        return total

    def top(
        self, scores: np.ndarray, k: int, keep: Callable[[str], bool] | None = None
    ) -> list[tuple[str, float]]:
        """The k best-scoring books with a positive score that `keep` accepts, best first."""
        ids = self.ids
        passes = None if keep is None else (lambda row: keep(ids[row]))
        rows = best_passing(scores, k, passes, np.flatnonzero(scores > 0))
        return list(zip([ids[row] for row in rows], scores[rows].tolist()))


class LexicalStore:
    """Lexical builds under one root: <root>/builds/<id>, CURRENT names the served one."""

    def __init__(self, root: Path, keep_builds: int = 2) -> None:
        self.root = Path(root)
        self.keep_builds = keep_builds

    def rebuild(
        self,
        ids: Sequence[str],
        fields: Mapping[str, Sequence[str]],
        catalog_checksum: str,
        point: bool = True,
    ) -> LexicalIndex:
        """Index the fields' texts as a new build and serve it; a failure leaves the old one served.

        `point=False` writes the build without naming it in CURRENT or pruning: a vector index
        build that names it (IndexManifest.lexical_build) publishes the pair at once.
        """
        started = time.perf_counter()
        index = LexicalIndex.build(ids, fields, catalog_checksum)
        manifest = index.manifest
        manifest.build_id = new_build_id()
        manifest.built_at = datetime.now(UTC).isoformat(timespec="seconds")
        manifest.build_seconds = round(time.perf_counter() - started, 3)

        def write(tmp: Path) -> None:
            for name, bm25 in index.bm25.items():
                bm25.save(tmp / _field_dir(name), show_progress=False)
            (tmp / IDS_FILE).write_text(json.dumps(index.ids))
            (tmp / MANIFEST_FILE).write_text(json.dumps(asdict(manifest), indent=2))

        builds.publish(self.root, manifest.build_id, write, point=point)
        if point:
            self.prune({manifest.build_id})
        log.debug("lexical build %s: %d books in %.1fs", manifest.build_id, manifest.count, manifest.build_seconds)
        return index

    def rebuild_from_catalog(
        self, books_path: Path, catalog_checksum: str, point: bool = True
    ) -> LexicalIndex:
        """Index every book's fields (lexical_fields.FIELDS) in a books table."""
        table = read_books(books_path).to_pydict()
        ids = table["book_id"]
        return self.rebuild(ids, field_texts(table, len(ids)), catalog_checksum, point)

    def prune(self, keep_ids: set[str]) -> None:
        """Remove builds but `keep_ids`, the one CURRENT names, the newest keep_builds and those
        a running process serves."""
        current = builds.current_build(self.root)
        builds.prune(self.root, keep_ids | ({current} if current else set()), self.keep_builds)

    def open(self, build_id: str | None = None) -> LexicalIndex:
        """The served build, or the one named, leased while the returned index lives."""
        build_id = build_id or builds.current_build(self.root)
        if build_id is None:
            raise StoreError(f"no lexical index at {self.root}: build one with `vibeshelf index`")
        path = builds.build_dir(self.root, build_id)
        try:
            lease = builds.hold(self.root, build_id)
        except FileNotFoundError as exc:
            raise StoreError(f"lexical build {path} is missing: run `vibeshelf index`") from exc
        try:
            return _read_build(path, lease)
        except BaseException:
            lease.close()
            raise


def _read_build(path: Path, lease: IO[str]) -> LexicalIndex:
    """Load a lexical build after checking its files against their checksums."""
    builds.verify(path)
    try:
        manifest = LexicalManifest(**json.loads((path / MANIFEST_FILE).read_text()))
        ids = json.loads((path / IDS_FILE).read_text())
        bm25 = {name: bm25s.BM25.load(path / _field_dir(name), show_progress=False) for name in manifest.fields}
    except (OSError, ValueError, TypeError) as exc:
        raise StoreError(f"lexical build {path} is unreadable: {exc}") from exc
    return LexicalIndex(ids, bm25, manifest, lease)
