"""The server-rendered search page: a form, vibe suggestions and result cards."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from vibeshelf.search.models import SearchParams, SearchResponse
from vibeshelf.search.query import QueryError
from vibeshelf.search.suggestions import vibe_suggestions

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter()
SUGGESTION_ROTATION_SECONDS = 60


async def page_params(
    q: str = "",
    shelf: str = "",
    year_min: int | None = None,
    year_max: int | None = None,
    min_rating: float | None = None,
) -> SearchParams:
    return SearchParams(
        q=q, shelves=[shelf] if shelf.strip() else [], year_min=year_min, year_max=year_max,
        min_rating=min_rating,
    )


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def search_page(request: Request, params: Annotated[SearchParams, Depends(page_params)]) -> HTMLResponse:
    runtime = request.app.state.runtime
    response: SearchResponse | None = None
    error = None
    if params.q.strip():
        try:
            response = runtime.search.search(params)
        except QueryError as exc:
            error = str(exc)
    seed = int(time.time() // SUGGESTION_ROTATION_SECONDS)
    suggestions = vibe_suggestions(runtime.catalog.shelf_counts, n=6, seed=seed)
    return templates.TemplateResponse(
        request,
        "index.html",
        {"params": params, "response": response, "error": error, "suggestions": suggestions},
    )
