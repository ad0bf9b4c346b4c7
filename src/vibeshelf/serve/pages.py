"""The server-rendered pages: search (form, vibe suggestions, result cards) and more-like-this."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from vibeshelf.catalog.books import Book
from vibeshelf.recommend.service import RecommendService, UnknownBooksError
from vibeshelf.search.models import SearchParams, SearchResponse
from vibeshelf.search.query import QueryError
from vibeshelf.search.suggestions import vibe_suggestions
from vibeshelf.serve.routing import NO_RECOMMENDER, hand_out_session, run_search, version_header

templates = Jinja2Templates(directory=FilePath(__file__).parent / "templates")
router = APIRouter()
SUGGESTION_ROTATION_SECONDS = 60
SIMILAR_SHOWN = 10


@dataclass(frozen=True)
class SimilarCard:
    """A more-like-this book with the reason it is there."""

    book: Book
    reason: str


async def page_params(
    q: str = "",
    shelf: str = "",
    year_min: int | None = None,
    year_max: int | None = None,
    min_rating: float | None = None,
    mode: Literal["", "vector", "lexical", "hybrid"] = "",
) -> SearchParams:
    return SearchParams(
        q=q, shelves=[shelf] if shelf.strip() else [], year_min=year_min, year_max=year_max,
        min_rating=min_rating, mode=mode or None, explain=True,
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def search_page(request: Request, params: Annotated[SearchParams, Depends(page_params)]) -> HTMLResponse:
    runtime = request.app.state.runtime
    response: SearchResponse | None = None
    error = None
    if params.q.strip():
        try:
            response = run_search(request, params)
        except QueryError as exc:
            error = str(exc)
    seed = int(time.time() // SUGGESTION_ROTATION_SECONDS)
    suggestions = vibe_suggestions(runtime.catalog.shelf_counts, n=6, seed=seed)
    page = templates.TemplateResponse(
        request,
        "index.html",
        {
            "params": params,
            "response": response,
            "error": error,
            "suggestions": suggestions,
            "more_like_this": request.app.state.recommender is not None,
        },
    )
    if response is not None:
        version_header(page, response.version)
    hand_out_session(request, page)
    return page


@router.get("/books/{book_id}", response_class=HTMLResponse, include_in_schema=False)
def more_like_this_page(
    request: Request, book_id: Annotated[str, Path(max_length=200)]
) -> HTMLResponse:
    """A book and the books most like it, by readers' behaviour and by text, each with its reason."""
    catalog = request.app.state.runtime.catalog
    recommender: RecommendService | None = request.app.state.recommender
    book = catalog.get(book_id)
    if book is None:
        raise HTTPException(404, f"unknown book id: {book_id}")
    if recommender is None:
        raise HTTPException(503, NO_RECOMMENDER)
    try:
        similar = recommender.similar(book_id, SIMILAR_SHOWN).similar
    except UnknownBooksError:
        similar = []
    cards = [
        SimilarCard(found, s.reason) for s in similar if (found := catalog.get(s.book_id)) is not None
    ]
    return templates.TemplateResponse(request, "book.html", {"book": book, "similar": cards})
