"""The search pipeline: sanitize, encode (cached), KNN with filters, rank, dedupe, log."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict

import numpy as np

from vibeshelf.catalog.books import Book, BookCatalog
from vibeshelf.embed.encoder import Encoder
from vibeshelf.index.base import VectorStore
from vibeshelf.index.filters import Filter, Range, Tag
from vibeshelf.search.models import BookResult, SearchParams, SearchResponse
from vibeshelf.search.query import QueryError, sanitize_query
from vibeshelf.search.querylog import QueryLog
from vibeshelf.search.ranking import Candidate, rank, title_key
from vibeshelf.settings import SearchSettings

SNIPPET_CHARS = 280
SHOWN_SHELVES = 6


class QueryVectorCache:
    """A thread-safe LRU of query text -> unit vector."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_encode(self, text: str, encoder: Encoder) -> np.ndarray:
        with self._lock:
            vector = self._items.get(text)
            if vector is not None:
                self._items.move_to_end(text)
                return vector
        vector = encoder.encode([text])[0]
        if self.size:
            with self._lock:
                self._items[text] = vector
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return vector


def build_filter(params: SearchParams) -> Filter:
    """The store filter for a request's optional constraints."""
    try:
        return Filter.of(
            Tag.any_of("shelves", *params.shelves) if params.shelves else None,
            Range("year", params.year_min, params.year_max)
            if params.year_min is not None or params.year_max is not None
            else None,
            Range("average_rating", low=params.min_rating) if params.min_rating is not None else None,
            Tag.any_of("language", params.language) if params.language else None,
        )
    except ValueError as exc:
        raise QueryError(str(exc)) from exc


def edition_keys(book: Book) -> tuple[int, str, str]:
    """What ranking needs of a book: ratings count and its two edition keys."""
    work_key = f"work:{book.work_id}" if book.work_id else ""
    return book.ratings_count, work_key, title_key(book.title, book.authors[0] if book.authors else "")


class SearchService:
    """Answers SearchParams with a ranked SearchResponse."""

    def __init__(
        self,
        encoder: Encoder,
        store: VectorStore,
        catalog: BookCatalog,
        settings: SearchSettings,
        query_log: QueryLog | None = None,
    ) -> None:
        self.encoder = encoder
        self.store = store
        self.catalog = catalog
        self.settings = settings
        self.query_log = query_log
        self.cache = QueryVectorCache(settings.query_cache_size)
        self._edition_keys = {book.book_id: edition_keys(book) for book in catalog}

    def search(self, params: SearchParams) -> SearchResponse:
        started = time.perf_counter()
        query = sanitize_query(params.q, self.settings.max_query_chars)
        limit = min(params.limit or self.settings.default_limit, self.settings.max_limit)
        filters = build_filter(params)
        vector = self.cache.get_or_encode(query.text, self.encoder)
        hits = self.store.knn(vector, max(self.settings.candidates, limit), filters)
        candidates = [self._candidate(h.id, h.similarity) for h in hits]
        ranked = rank(
            (c for c in candidates if c is not None),
            self.catalog.max_ratings_count,
            self.settings.popularity_weight,
        )[:limit]
        results = [self._result(pos, cand, score) for pos, (cand, score) in enumerate(ranked, 1)]
        manifest = self.store.manifest
        response = SearchResponse(
            request_id=uuid.uuid4().hex,
            query=query.text,
            truncated=query.truncated,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            model_version=manifest.model_version,
            index_build=manifest.build_id,
            results=results,
        )
        self._log(params, response)
        return response

    def _candidate(self, book_id: str, similarity: float) -> Candidate | None:
        keys = self._edition_keys.get(book_id)
        if keys is None:
            return None
        return Candidate(book_id, similarity, *keys)

    def _result(self, position: int, cand: Candidate, score: float) -> BookResult:
        book: Book = self.catalog.get(cand.book_id)  # type: ignore[assignment]
        description = book.description
        if description and len(description) > SNIPPET_CHARS:
            description = description[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"
        return BookResult(
            rank=position,
            book_id=book.book_id,
            title=book.title,
            authors=book.authors,
            year=book.year,
            score=round(cand.similarity, 4),
            rank_score=round(score, 4),
            average_rating=book.average_rating,
            ratings_count=book.ratings_count,
            shelves=book.shelves[:SHOWN_SHELVES],
            description=description,
            url=book.url,
            cover_url=book.cover_url,
        )

    def _log(self, params: SearchParams, response: SearchResponse) -> None:
        if self.query_log is None:
            return
        self.query_log.write(
            {
                "request_id": response.request_id,
                "query": response.query,
                "filters": params.model_dump(exclude={"q", "limit"}, exclude_defaults=True),
                "limit": len(response.results),
                "results": [r.book_id for r in response.results],
                "scores": [r.score for r in response.results],
                "latency_ms": response.took_ms,
                "model_version": response.model_version,
                "index_build": response.index_build,
            }
        )
