"""The server-rendered pages: search (form, vibe suggestions, result cards) and more-like-this."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse

from vibeshelf.catalog.books import Book
from vibeshelf.recommend.service import UnknownBooksError
from vibeshelf.search.query import QueryError
from vibeshelf.search.schemas import SearchResponse
from vibeshelf.search.suggestions import vibe_suggestions
from vibeshelf.serve.deps import (
    OptionalRecommender,
    SearchRuntime,
    SearchSplit,
    Signer,
    require_recommender,
)
from vibeshelf.serve.page_form import FormError, SearchForm
from vibeshelf.serve.routing import hand_out_session, run_search, version_header
from vibeshelf.serve.templating import templates

router = APIRouter()
SUGGESTION_ROTATION_SECONDS = 60
SIMILAR_SHOWN = 10


@dataclass(frozen=True)
class SimilarCard:
    """A more-like-this book with the reason it is there."""

    book: Book
    reason: str


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def search_page(
    request: Request, runtime: SearchRuntime, recommender: OptionalRecommender, signer: Signer,
    split: SearchSplit, q: str = "", shelf: str = "", year_min: str = "", year_max: str = "",
    min_rating: str = "", mode: str = "", genre: str = "",
) -> HTMLResponse:
    """The search form (empty boxes: no filter) and, for a query, its results; a filter value out
    of range or not a number gives the form back with the message, status 422."""
    form = SearchForm(q, shelf, year_min, year_max, min_rating, mode, genre)
    response: SearchResponse | None = None
    error = None
    status = 200
    try:
        params = form.params()
        if params.q.strip():
            response = run_search(request, params, runtime.search, signer, split)
    except (FormError, QueryError) as exc:
        error, status = str(exc), 422
    seed = int(time.time() // SUGGESTION_ROTATION_SECONDS)
    suggestions = vibe_suggestions(runtime.catalog.shelf_counts, n=6, seed=seed)
    page = templates.TemplateResponse(
        request,
        "index.html",
        {
            "form": form,
            "response": response,
            "error": error,
            "suggestions": suggestions,
            "genres": sorted(runtime.catalog.genre_counts),
            "more_like_this": recommender is not None,
        },
        status_code=status,
    )
    if response is not None:
        version_header(page, response.version)
    hand_out_session(request, page)
    return page


@router.get("/books/{book_id}", response_class=HTMLResponse, include_in_schema=False)
def more_like_this_page(
    request: Request, runtime: SearchRuntime, recommender: OptionalRecommender,
    book_id: Annotated[str, Path(max_length=200)],
) -> HTMLResponse:
    """A book and the books most like it, by readers' behaviour and by text, each with its reason."""
    catalog = runtime.catalog
    book = catalog.get(book_id)
    if book is None:
        raise HTTPException(404, f"There is no book with id {book_id} in the catalog.")
    try:
        similar = require_recommender(recommender).similar(book_id, SIMILAR_SHOWN).similar
    except UnknownBooksError:
        similar = []
    cards = [
        SimilarCard(found, s.reason) for s in similar if (found := catalog.get(s.book_id)) is not None
    ]
    return templates.TemplateResponse(request, "book.html", {"book": book, "similar": cards})
