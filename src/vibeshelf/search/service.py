"""The search pipeline: sanitize, retrieve (vector KNN and BM25), fuse, rerank, dedupe, explain, log."""

from __future__ import annotations

import copy
import math
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vibeshelf.catalog.books import Book, BookCatalog
from vibeshelf.catalog.documents import build_document
from vibeshelf.catalog.shelves import shelf_phrase
from vibeshelf.config.core import SearchSettings
from vibeshelf.embed.encoder import Encoder
from vibeshelf.embed.vectors import EmbeddingSet
from vibeshelf.index.base import VectorStore
from vibeshelf.index.filters import Filter, Range, Tag
from vibeshelf.search.exact import PROMOTED, ExactMatcher
from vibeshelf.search.fusion import rrf
from vibeshelf.search.lexical import LexicalIndex, terms, tokenize
from vibeshelf.search.models import BookResult, Explanation, Mode, SearchParams, SearchResponse
from vibeshelf.search.query import QueryError, sanitize_query
from vibeshelf.search.querylog import QueryLog
from vibeshelf.search.ranking import RankTable
from vibeshelf.search.rerank import CONSENSUS_DEPTH, FEATURES, Reranker
from vibeshelf.search.topk import best_passing

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


@dataclass
class Retrieved:
    """One query's candidates from each retriever, with the scores ranking and explaining need."""

    text: str
    vector: np.ndarray | None
    vector_ranked: list[tuple[str, float]]
    similarity: dict[str, float]
    lexical_ids: list[str]
    bm25: np.ndarray | None
    bm25_max: float
    description_ids: list[str]

    @property
    def vector_ids(self) -> list[str]:
        return [book_id for book_id, _ in self.vector_ranked]


class SearchService:
    """Answers SearchParams with a ranked SearchResponse."""

    def __init__(
        self,
        encoder: Encoder,
        store: VectorStore,
        catalog: BookCatalog,
        settings: SearchSettings,
        query_log: QueryLog | None = None,
        lexical: LexicalIndex | None = None,
        reranker: Reranker | None = None,
        descriptions: EmbeddingSet | None = None,
    ) -> None:
        self.encoder = encoder
        self.store = store
        self.catalog = catalog
        self.settings = settings
        self.query_log = query_log
        self.lexical = lexical
        self.reranker = reranker
        self.cache = QueryVectorCache(settings.query_cache_size)
        self.exact = ExactMatcher(catalog)
        self.ranking = RankTable(catalog)
        # BM25 scores only catalog books (an index kept from an earlier build may hold others).
        self._lexical_in_catalog = np.array(
            [i in self.ranking for i in (lexical.ids if lexical is not None else [])], dtype=bool
        )
        shelves = list(catalog.shelf_counts)
        self._shelf_stems = {shelf: frozenset(tokenize(shelf_phrase(shelf))) for shelf in shelves}
        self._book_shelf_stems = {
            book.book_id: frozenset().union(*(self._shelf_stems[s] for s in book.shelves))
            for book in catalog
        }
        # Shelf phrases embedded once, for the query-to-shelf similarity rerank feature.
        self._shelf_vectors = encoder.encode([shelf_phrase(s) for s in shelves]) if shelves else None
        position = {shelf: i for i, shelf in enumerate(shelves)}
        self._book_shelves = {
            book.book_id: np.array([position[s] for s in book.shelves], dtype=np.int64) for book in catalog
        }
        # The catalog books' description vectors, then a zero row for books without one.
        described = descriptions.ids if descriptions is not None else []
        in_catalog = [i in catalog for i in described]
        self._description_ids = [i for i, kept in zip(described, in_catalog, strict=True) if kept]
        self._description_row = {book_id: row for row, book_id in enumerate(self._description_ids)}
        self._description_vectors = (
            np.vstack([
                descriptions.vectors[in_catalog],
                np.zeros((1, descriptions.vectors.shape[1]), np.float32),
            ])
            if descriptions is not None
            else None
        )

    def with_settings(self, settings: SearchSettings) -> SearchService:
        """This service under other ranking settings, sharing its indexes, encoder and tables."""
        variant = copy.copy(self)
        variant.settings = settings
        variant.cache = QueryVectorCache(settings.query_cache_size)
        return variant

    def search(self, params: SearchParams, session: str | None = None) -> SearchResponse:
        """The ranked books for `params`; `session` (a returning reader's) goes to the query log."""
        started = time.perf_counter()
        query = sanitize_query(params.q, self.settings.max_query_chars)
        limit = min(params.limit or self.settings.default_limit, self.settings.max_limit)
        filters = build_filter(params)
        mode: Mode = params.mode or self.settings.mode
        if mode != "vector" and self.lexical is None:
            raise QueryError(f"mode {mode!r} needs a lexical index: run `vibeshelf index`")
        rerank = mode == "hybrid" and self.reranker is not None and (
            self.settings.rerank if params.rerank is None else params.rerank
        )
        found = self.retrieve(query.text, mode, filters, max(self.settings.candidates, limit))
        ordered, exact = self._order(found, mode, filters, rerank)
        ranked = self.ranking.dedupe(ordered, limit)
        sims: list[float | None] = (
            [None] * len(ranked) if mode == "lexical"
            else list(self._similarities(found, [book_id for book_id, _ in ranked]))
        )
        results = [
            self._result(pos, book_id, sim, score, found, exact.get(book_id), params.explain)
            for pos, ((book_id, score), sim) in enumerate(zip(ranked, sims, strict=True), 1)
        ]
        manifest = self.store.manifest
        response = SearchResponse(
            request_id=uuid.uuid4().hex,
            query=query.text,
            truncated=query.truncated,
            mode=mode,
            reranked=rerank,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            model_version=manifest.model_version,
            index_build=manifest.build_id,
            results=results,
        )
        self._log(params, response, session)
        return response

    # ---- retrieval -------------------------------------------------------------------------
    def retrieve(self, text: str, mode: Mode, filters: Filter, k: int) -> Retrieved:
        """Vector and/or BM25 candidates for the query, each list best first."""
        vector = None
        vector_ranked: list[tuple[str, float]] = []
        similarity: dict[str, float] = {}
        if mode != "lexical":
            vector = self.cache.get_or_encode(text, self.encoder)
            hits = [h for h in self.store.knn(vector, k, filters) if h.id in self.ranking]
            vector_ranked = self.ranking.rank(
                ((h.id, h.similarity) for h in hits), self.settings.popularity_weight
            )
            similarity = {h.id: h.similarity for h in hits}
        lexical_ids: list[str] = []
        bm25 = None
        bm25_max = 0.0
        if mode != "vector" and self.lexical is not None:
            bm25 = np.where(self._lexical_in_catalog, self.lexical.scores(text), 0.0)
            bm25_max = float(bm25.max()) if len(bm25) else 0.0
            keep = self._keeper(filters)
            lexical_ids = [i for i, _ in self.lexical.top(bm25, k, keep)]
        description_ids = (
            self._nearest_descriptions(vector, k, self._keeper(filters))
            if mode == "hybrid" and vector is not None
            else []
        )
        return Retrieved(
            text, vector, vector_ranked, similarity, lexical_ids, bm25, bm25_max, description_ids
        )

    def _nearest_descriptions(
        self, vector: np.ndarray, k: int, keep: Callable[[str], bool] | None
    ) -> list[str]:
        """Up to k books that pass `keep` (all when None) whose description alone is nearest the
        query (exact)."""
        if self._description_vectors is None or k <= 0:
            return []
        ids = self._description_ids
        passes = None if keep is None else (lambda row: keep(ids[row]))
        return [ids[row] for row in best_passing(self._description_vectors[:-1] @ vector, k, passes)]

    def _keeper(self, filters: Filter) -> Callable[[str], bool] | None:
        """A predicate on catalog book ids for `filters`; None when there are none."""
        if not filters:
            return None
        catalog = self.catalog

        def keep(book_id: str) -> bool:
            book = catalog.get(book_id)
            return book is not None and filters.matches(book.index_fields())

        return keep

    # ---- ordering --------------------------------------------------------------------------
    def _order(
        self, found: Retrieved, mode: Mode, filters: Filter, rerank: bool
    ) -> tuple[list[tuple[str, float]], dict[str, str]]:
        """(book id, rank score) best first, and the exact title/author matches promoted."""
        if mode == "vector":
            return found.vector_ranked, {}
        if mode == "lexical":
            assert found.bm25 is not None and self.lexical is not None
            position = self.lexical.position
            ordered = [(i, float(found.bm25[position[i]])) for i in found.lexical_ids]
        else:
            ordered = self.fused(found)
            if rerank:
                ordered = self._rerank(found, ordered)
        return self._promote_exact(found.text, ordered, filters)

    def fused(self, found: Retrieved) -> list[tuple[str, float]]:
        """The hybrid candidates: vector, BM25 and description lists fused by reciprocal rank."""
        return rrf([found.vector_ids, found.lexical_ids, found.description_ids], self.settings.rrf_k)

    def _rerank(self, found: Retrieved, ordered: list[tuple[str, float]]) -> list[tuple[str, float]]:
        assert self.reranker is not None
        head = ordered[: self.settings.rerank_depth]
        features = self.features(found, [i for i, _ in head])
        scores = self.reranker.score(features)
        reranked = [(head[i][0], float(scores[i])) for i in self.reranker.order(features)]
        tail = ordered[len(head) :]
        if not reranked or not tail:
            return reranked + tail
        # Below the rerank depth the fused order goes on, its scores shifted under the reranked ones.
        shift = reranked[-1][1] - tail[0][1]
        return reranked + [(book_id, score + shift) for book_id, score in tail]

    def features(self, found: Retrieved, ids: list[str]) -> np.ndarray:
        """The rerank features (see search.rerank.FEATURES) of candidate books."""
        if not ids:
            return np.zeros((0, len(FEATURES)))
        zeros = np.zeros(len(ids))
        k = self.settings.rrf_k
        vector_rank = {book_id: r for r, book_id in enumerate(found.vector_ids, 1)}
        lexical_rank = {book_id: r for r, book_id in enumerate(found.lexical_ids, 1)}
        query_stems = set(tokenize(found.text))
        shelves = [self._book_shelves[book_id] for book_id in ids]
        sizes = np.array([len(s) for s in shelves])
        flat = np.concatenate(shelves)
        consensus = np.bincount(flat[: sizes[:CONSENSUS_DEPTH].sum()], minlength=len(self._shelf_stems))
        columns = {
            "vector": self._similarities(found, ids),
            "lexical": [self._bm25(found, i) / found.bm25_max for i in ids] if found.bm25_max > 0 else zeros,
            "popularity": [self.ranking.books[i].popularity for i in ids],
            "shelf_words": [len(query_stems & self._book_shelf_stems[i]) / len(query_stems) for i in ids]
            if query_stems else zeros,
            "shelf_similarity": _per_book((self._shelf_vectors @ found.vector)[flat], sizes, np.maximum)
            if self._shelf_vectors is not None and found.vector is not None else zeros,
            "vector_rr": [(k + 1) / (k + vector_rank[i]) if i in vector_rank else 0.0 for i in ids],
            "lexical_rr": [(k + 1) / (k + lexical_rank[i]) if i in lexical_rank else 0.0 for i in ids],
            "shelf_consensus": _per_book(consensus[flat].astype(np.float64), sizes, np.add)
            / (np.sqrt(np.maximum(sizes, 1)) * (math.sqrt(int(consensus @ consensus)) or 1.0)),
            "description": self._description_similarities(found, ids),
        }
        return np.column_stack([np.asarray(columns[name], dtype=np.float64) for name in FEATURES])

    def _description_similarities(self, found: Retrieved, ids: list[str]) -> list[float]:
        """Cosine of the query to each book's description vector; 0 for books without one."""
        if self._description_vectors is None or found.vector is None:
            return [0.0] * len(ids)
        missing = len(self._description_vectors) - 1
        rows = [self._description_row.get(book_id, missing) for book_id in ids]
        return (self._description_vectors[rows] @ found.vector).tolist()  # type: ignore[no-any-return]

    def _promote_exact(
        self, text: str, ordered: list[tuple[str, float]], filters: Filter
    ) -> tuple[list[tuple[str, float]], dict[str, str]]:
        keep = self._keeper(filters)
        matches = [(i, kind) for i, kind in self.exact.match(text) if keep is None or keep(i)][:PROMOTED]
        if not matches:
            return ordered, {}
        promoted = dict(matches)
        top = ordered[0][1] if ordered else 0.0
        head = [(i, top) for i in promoted]
        return head + [(i, s) for i, s in ordered if i not in promoted], promoted

    # ---- results ---------------------------------------------------------------------------
    def _similarities(self, found: Retrieved, ids: list[str]) -> list[float]:
        """Cosine similarity of each book to the query (computed for books KNN did not return)."""
        missing = [i for i in ids if i not in found.similarity]
        if missing and found.vector is not None:
            exact = self.store.similarities(found.vector, missing)
            found.similarity.update({i: s for i, s in zip(missing, exact, strict=True) if s is not None})
        return [found.similarity.get(i, 0.0) for i in ids]

    def _bm25(self, found: Retrieved, book_id: str) -> float:
        if found.bm25 is None or self.lexical is None:
            return 0.0
        position = self.lexical.position.get(book_id)
        return 0.0 if position is None else float(found.bm25[position])

    def _result(
        self,
        position: int,
        book_id: str,
        similarity: float | None,
        score: float,
        found: Retrieved,
        exact: str | None,
        explain: bool,
    ) -> BookResult:
        book: Book = self.catalog.get(book_id)  # type: ignore[assignment]
        description = book.description
        if description and len(description) > SNIPPET_CHARS:
            description = description[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"
        return BookResult(
            rank=position,
            book_id=book.book_id,
            title=book.title,
            authors=book.authors,
            year=book.year,
            score=round(score, 4),
            similarity=None if similarity is None else round(similarity, 4),
            average_rating=book.average_rating,
            ratings_count=book.ratings_count,
            shelves=book.shelves[:SHOWN_SHELVES],
            description=description,
            url=book.url,
            cover_url=book.cover_url,
            explanation=self.explain(book, found, exact) if explain else None,
        )

    def explain(self, book: Book, found: Retrieved, exact: str | None) -> Explanation:
        """What the book shares with the query, and its rank in each retriever's candidates."""
        query_terms = terms(found.text)
        query_stems = {stem for _, stem in query_terms}
        document = set(tokenize(build_document(book.title, book.authors, book.shelves, book.description)))
        words = dict.fromkeys(word for word, stem in query_terms if stem in document)
        return Explanation(
            shared_shelves=[s for s in book.shelves if self._shelf_stems.get(s, frozenset()) & query_stems],
            shared_words=list(words),
            vector_rank=_position(found.vector_ids, book.book_id),
            lexical_rank=_position(found.lexical_ids, book.book_id),
            description_rank=_position(found.description_ids, book.book_id),
            exact_match=exact,  # type: ignore[arg-type]
        )

    def _log(self, params: SearchParams, response: SearchResponse, session: str | None) -> None:
        if self.query_log is None:
            return
        self.query_log.write(
            {
                "request_id": response.request_id,
                "query": response.query,
                "mode": response.mode,
                "filters": params.model_dump(
                    exclude={"q", "limit", "mode", "rerank", "explain"}, exclude_defaults=True
                ),
                "limit": len(response.results),
                "results": [r.book_id for r in response.results],
                "scores": [r.score for r in response.results],
                "latency_ms": response.took_ms,
                "model_version": response.model_version,
                "index_build": response.index_build,
                "session": session,
            }
        )


def _per_book(values: np.ndarray, sizes: np.ndarray, reduce: np.ufunc) -> np.ndarray:
    """`reduce` over consecutive runs of `values`, one run per book of `sizes` items (0 if none)."""
    out = np.zeros(len(sizes))
    some = sizes > 0
    if some.any():
        out[some] = reduce.reduceat(values, (np.cumsum(sizes) - sizes)[some])
    return out


def _position(ids: list[str], book_id: str) -> int | None:
    try:
        return ids.index(book_id) + 1
    except ValueError:
        return None
