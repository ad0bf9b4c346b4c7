"""The FastAPI app: JSON search API, health, and the server-rendered page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from vibeshelf import __version__
from vibeshelf.embed.encoder import Encoder
from vibeshelf.search.schemas import (
    Genre,
    GenresResponse,
    Suggestion,
    SuggestResponse,
)
from vibeshelf.serve import openai_api
from vibeshelf.serve.deps import (
    OptionalExperiments,
    OptionalRecommender,
    SearchRuntime,
)
from vibeshelf.serve.encode_api import install_encode_api
from vibeshelf.serve.errors import install_error_handlers
from vibeshelf.serve.experiments_api import router as experiments_router
from vibeshelf.serve.head import HeadAsGet
from vibeshelf.serve.health import health_report
from vibeshelf.serve.limits import BodySizeLimit, body_limits
from vibeshelf.serve.metrics import install_metrics
from vibeshelf.serve.openapi import document_errors
from vibeshelf.serve.pages import router as pages_router
from vibeshelf.serve.recommend_api import router as recommend_router
from vibeshelf.serve.runtime import Runtime
from vibeshelf.serve.search_api import router as search_router
from vibeshelf.serve.services import PARTS, Services
from vibeshelf.serve.timing import TimingMiddleware
from vibeshelf.settings import Settings, get_settings

STATIC_DIR = Path(__file__).parent / "static"


def create_app(
    settings: Settings | None = None, runtime: Runtime | None = None, encoder: Encoder | None = None
) -> FastAPI:
    """The app serving `settings.serve.apis`; loads its Services at start-up (with `runtime` and
    `encoder` when given).

    "search" is the page, /api/* and /health; "encode" the /v1 embedding service alone, which
    loads only the model (no catalog, no index) unless given `encoder`; "all" both, sharing one
    encoder.
    """
    settings = settings or get_settings()
    apis = settings.serve.apis
    services = Services.for_settings(settings, PARTS[apis])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with services.loaded(runtime, encoder):
            app.state.services = services
            if services.encode is not None:
                openai_api.document_model(app, services.encode.service.encoder)
            yield

    app = FastAPI(
        title="vibeshelf",
        version=__version__,
        description="Find books by vibe.",
        lifespan=lifespan,
    )
    install_error_handlers(app, pages=apis != "encode")
    app.add_middleware(BodySizeLimit, limits=body_limits(settings))
    if apis != "search":
        install_encode_api(app, standalone=apis == "encode")
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(TimingMiddleware)
    install_metrics(app, services.metrics)
    app.add_middleware(HeadAsGet)
    document_errors(app)
    if apis == "encode":
        return app

    app.include_router(search_router)

    @app.get("/api/suggest", response_model=SuggestResponse, tags=["search"])
    def api_suggest(
        rt: SearchRuntime,
        q: Annotated[str, Query(min_length=1, max_length=200, description="What has been typed so far")],
        limit: Annotated[int, Query(ge=1, le=20)] = 8,
    ) -> SuggestResponse:
        """Completions from titles, authors and shelves, and queries people often search."""
        found = rt.autocomplete.suggest(q, limit)
        return SuggestResponse(
            q=q, suggestions=[Suggestion(text=s.text, kind=s.kind) for s in found]
        )

    @app.get("/api/genres", response_model=GenresResponse, tags=["search"])
    def api_genres(rt: SearchRuntime) -> GenresResponse:
        """The catalog's canonical genres with their book counts, most books first: the values
        `genre=` accepts on /api/search."""
        counts = rt.catalog.genre_counts
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return GenresResponse(genres=[Genre(name=name, books=books) for name, books in ordered])

    @app.get("/health", tags=["ops"])
    def health(
        rt: SearchRuntime, recommender: OptionalRecommender, experiments: OptionalExperiments
    ) -> dict[str, Any]:
        """Liveness plus the model, index, recommender and experiment versions being served."""
        return health_report(rt, recommender, experiments)

    @app.get(
        "/health/ready", tags=["ops"],
        responses={503: {"description": "Some part is not serving: the same body says which"}},
    )
    def ready(
        rt: SearchRuntime, recommender: OptionalRecommender, experiments: OptionalExperiments
    ) -> JSONResponse:
        """/health's report, with status 503 unless every part serves: the vector store holds the
        index and every active experiment version loaded. For a proxy's health check."""
        report = health_report(rt, recommender, experiments)
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(recommend_router)
    app.include_router(experiments_router)
    app.include_router(pages_router)
    return app
