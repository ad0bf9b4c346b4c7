"""The search pipeline: sanitize, understand, retrieve (vector KNN and BM25), fuse, rerank, dedupe,
explain, log."""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable

import numpy as np

from vibeshelf.catalog.books import Book, BookCatalog
from vibeshelf.catalog.documents import build_document
from vibeshelf.catalog.series import asks_for_companions
from vibeshelf.config.core import SearchSettings
from vibeshelf.embed.encoder import Encoder
from vibeshelf.embed.vectors import EmbeddingSet
from vibeshelf.index.base import VectorStore
from vibeshelf.index.filters import Filter
from vibeshelf.search.answers import Answers, CoReadNeighbours
from vibeshelf.search.audience import grown_up_mood, young_books
from vibeshelf.search.exact import ExactMatcher
from vibeshelf.search.features import ShelfTables, rerank_features
from vibeshelf.search.filters import build_filter, keeper
from vibeshelf.search.fusion import rrf
from vibeshelf.search.lexical import LexicalIndex
from vibeshelf.search.present import Presenter
from vibeshelf.search.query import QueryError, sanitize_query
from vibeshelf.search.querylog import QueryLog, search_entry
from vibeshelf.search.ranking import RankTable, demote, lead_with, series_in_order
from vibeshelf.search.rerank import Reranker
from vibeshelf.search.retrieve import (
    DescriptionVectors,
    Retrieved,
    Retriever,
    query_encoder,
    sentences,
)
from vibeshelf.search.schemas import Interpreted, Mode, SearchParams, SearchResponse
from vibeshelf.search.spelling import spell_out, without_request_words
from vibeshelf.search.titlewords import TitleWords
from vibeshelf.search.understand import Interpreter


class SearchService:
    """Answers SearchParams with a ranked SearchResponse.

    `book_vectors` are the catalog books' own vectors ("books like X" starts from X's; without
    them X's document is encoded); `co_readers`, set by whoever holds a recommender, adds the
    books X's readers read.
    """

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
        book_vectors: EmbeddingSet | None = None,
    ) -> None:
        self.encoder = encoder
        self.store = store
        self.catalog = catalog
        self.settings = settings
        self.query_log = query_log
        self.lexical = lexical
        self.reranker = reranker
        self.query_vector = query_encoder(encoder, settings.query_cache_size, settings.long_query_fusion)
        self.exact = ExactMatcher(catalog)
        self.ranking = RankTable(catalog)
        self.retriever = Retriever(
            store, catalog, self.ranking, lexical,
            DescriptionVectors(descriptions, catalog) if descriptions is not None else None,
        )
        self.shelves = ShelfTables.build(catalog, encoder)
        self.presenter = Presenter(catalog, self.shelves.stems)
        self.interpreter = Interpreter(catalog)
        self.title_words = TitleWords(catalog)
        self.young = young_books(catalog)
        self.book_rows = {} if book_vectors is None else {i: r for r, i in enumerate(book_vectors.ids)}
        self.book_vectors = book_vectors
        self.answers = Answers(store, catalog, self.ranking, self._vector_of, self.shelves)
        self.co_readers: CoReadNeighbours | None = None

    def attach_descriptions(self, descriptions: EmbeddingSet) -> None:
        """Start reading description vectors made after the service started (one assignment, so
        a search in flight sees either none or all of them)."""
        self.retriever.descriptions = DescriptionVectors(descriptions, self.catalog)

    def with_settings(self, settings: SearchSettings) -> SearchService:
        """This service under other ranking settings, sharing its indexes, encoder and tables."""
        variant = copy.copy(self)
        variant.settings = settings
        variant.query_vector = query_encoder(
            self.encoder, settings.query_cache_size, settings.long_query_fusion
        )
        return variant

    def search(self, params: SearchParams, session: str | None = None) -> SearchResponse:
        """The ranked books for `params`; `session` (a returning reader's) goes to the query log."""
        started = time.perf_counter()
        query = sanitize_query(params.q, self.settings.max_query_chars)
        limit = min(params.limit or self.settings.default_limit, self.settings.max_limit)
        filters = build_filter(params, self.catalog.genre_counts)
        mode: Mode = params.mode or self.settings.mode
        if mode != "vector" and self.lexical is None:
            raise QueryError(f"mode {mode!r} needs a lexical index: run `vibeshelf index`")
        rerank = mode == "hybrid" and self.reranker is not None and (
            self.settings.rerank if params.rerank is None else params.rerank
        )
        meaning = self.interpreter.interpret(query.text)
        k = max(self.settings.candidates, limit)
        found, ordered, exact = self._answer(meaning, mode, filters, rerank, k)
        ranked = self.ranking.dedupe(ordered, limit, asks_for_companions(query.text))
        ids = [book_id for book_id, _ in ranked]
        sims: list[float | None] = (
            [None] * len(ranked) if mode == "lexical" else list(self.retriever.similarities(found, ids))
        )
        results = [
            self.presenter.result(pos, book_id, sim, score, found, exact.get(book_id), params.explain)
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
            interpreted=meaning,
            results=results,
        )
        if self.query_log is not None:
            self.query_log.write(search_entry(params, response, session))
        return response

    def retrieve(
        self, text: str, mode: Mode, filters: Filter, k: int, title_only: set[str] | None = None,
        lexical_text: str | None = None,
    ) -> Retrieved:
        """Vector and/or BM25 candidates for the query, each list best first; BM25 (and the
        rerank's word features) read `lexical_text` when given and ignore the books in
        `title_only`."""
        vectors = self.query_vector(text) if mode != "lexical" else None
        return self.retriever.retrieve(
            lexical_text or text, None if vectors is None else vectors[0], mode, filters, k,
            self.settings.popularity_weight, title_only or (), None if vectors is None else vectors[1:],
            self.settings.lexical_fields.model_dump(),
        )

    def fused(self, found: Retrieved) -> list[tuple[str, float]]:
        """The hybrid candidates: vector, BM25 and description lists fused by reciprocal rank."""
        return rrf([found.vector_ids, found.lexical_ids, found.description_ids], self.settings.rrf_k)

    def features(self, found: Retrieved, ids: list[str]) -> np.ndarray:
        """The rerank features (see search.rerank.FEATURES) of candidate books."""
        scores = self.retriever.scores(found, ids)
        return rerank_features(found, ids, scores, self.shelves, self.settings.rrf_k)

    def rerank_candidates(self, found: Retrieved) -> tuple[list[tuple[str, float]], np.ndarray]:
        """The fused candidates, best first, and the rerank features of their head (rerank_depth)."""
        ordered = self.fused(found)
        return ordered, self.features(found, [i for i, _ in ordered[: self.settings.rerank_depth]])

    def _answer(
        self, meaning: Interpreted, mode: Mode, filters: Filter, rerank: bool, k: int
    ) -> tuple[Retrieved, list[tuple[str, float]], dict[str, str]]:
        """What the query was read as, answered: candidates, (book id, score) best first, and the
        exact matches promoted."""
        keep = keeper(filters, self.catalog)
        if meaning.kind == "like_book" and mode != "lexical":
            book: Book = self.catalog.get(meaning.book_id)  # type: ignore[arg-type, assignment]
            steer = self.query_vector(meaning.vibe)[0] if meaning.vibe else None
            found, ordered = self.answers.like_book(
                book, steer, filters, keep, k, self.co_readers, self.settings.rrf_k,
                self.settings.like_popularity_weight, self.settings.like_genre_weight,
            )
            return found, ordered, {}
        if meaning.kind == "author":
            assert meaning.author is not None
            vibe = self.query_vector(meaning.vibe)[0] if meaning.vibe and mode != "lexical" else None
            found, ordered = self.answers.by_author(
                self.interpreter.author_books(meaning.author), vibe, keep, self.settings.popularity_weight
            )
            found.text = meaning.vibe or meaning.author
            return found, ordered, {}
        text = spell_out(meaning.vibe) if meaning.kind == "vibe" else meaning.vibe
        title_only = self.title_words.title_only(text) if meaning.kind == "vibe" and mode != "vector" else None
        widened = " ".join([text, *meaning.added]).strip()
        found = self.retrieve(
            widened, mode, filters, k, title_only,
            without_request_words(widened) if meaning.kind == "vibe" else None,
        )
        ordered, exact = self._order(found, mode, keep, rerank)
        if title_only:
            ordered = demote(ordered, title_only)
        if meaning.kind == "vibe" and self.young and grown_up_mood(widened):
            young = self.young
            ordered = demote(ordered, {i for i, _ in ordered if i in young and i not in exact})
        if meaning.kind == "vibe" and mode == "hybrid" and len(sentences(text or widened)) == 1:
            ordered = series_in_order(ordered, self.ranking.series)
        if meaning.series:
            series = self.interpreter.series_books(meaning.series)
            ordered = lead_with(ordered, [b.book_id for b in series if keep is None or keep(b.book_id)])
        return found, ordered, exact

    def _vector_of(self, book: Book) -> np.ndarray:
        """A catalog book's own vector: from the book vectors, else its document encoded."""
        row = self.book_rows.get(book.book_id)
        if row is not None and self.book_vectors is not None:
            return self.book_vectors.vectors[row]
        document = build_document(book.title, book.authors, book.shelves, book.description)
        return self.encoder.encode([document])[0]

    def _order(
        self, found: Retrieved, mode: Mode, keep: Callable[[str], bool] | None, rerank: bool
    ) -> tuple[list[tuple[str, float]], dict[str, str]]:
        """(book id, rank score) best first, and the exact title/author matches that pass `keep`
        promoted."""
        if mode == "vector":
            return found.vector_ranked, {}
        if mode == "lexical":
            assert found.bm25 is not None and self.lexical is not None
            position = self.lexical.position
            ordered = [(i, float(found.bm25[position[i]])) for i in found.lexical_ids]
        elif rerank:
            assert self.reranker is not None
            ordered = self.reranker.reorder(*self.rerank_candidates(found))
        else:
            ordered = self.fused(found)
        return self.exact.promote(found.text, ordered, keep)
