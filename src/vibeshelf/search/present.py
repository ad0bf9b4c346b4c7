"""Search results as shown: a catalog book with its scores, a description snippet and why it matched."""

from __future__ import annotations

from collections.abc import Mapping

from vibeshelf.catalog.books import Book, BookCatalog
from vibeshelf.catalog.documents import build_document
from vibeshelf.search.lexical import terms, tokenize
from vibeshelf.search.retrieve import Retrieved
from vibeshelf.search.schemas import BookResult, Explanation

SNIPPET_CHARS = 280
SHOWN_SHELVES = 6


class Presenter:
    """Turns ranked book ids into BookResults, explained on request."""

    def __init__(self, catalog: BookCatalog, shelf_stems: Mapping[str, frozenset[str]]) -> None:
        self.catalog = catalog
        self.shelf_stems = shelf_stems
        self.genre_stems = {g: frozenset(tokenize(g)) for g in catalog.genre_counts}

    def result(
        self,
        position: int,
        book_id: str,
        similarity: float | None,
        score: float,
        found: Retrieved,
        exact: str | None,
        explain: bool,
    ) -> BookResult:
        """The book ranked at `position` (from 1); `exact` is how it matched the query exactly, if it did."""
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
            genres=book.genres,
            description=description,
            description_source=book.description_source if description else None,  # type: ignore[arg-type]
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
            shared_shelves=[s for s in book.shelves if self.shelf_stems.get(s, frozenset()) & query_stems],
            matched_genres=[g for g in book.genres if self.genre_stems.get(g, frozenset()) & query_stems],
            shared_words=list(words),
            vector_rank=_position(found.vector_ids, book.book_id),
            lexical_rank=_position(found.lexical_ids, book.book_id),
            description_rank=_position(found.description_ids, book.book_id),
            exact_match=exact,  # type: ignore[arg-type]
        )


def _position(ids: list[str], book_id: str) -> int | None:
    try:
        return ids.index(book_id) + 1
    except ValueError:
        return None
