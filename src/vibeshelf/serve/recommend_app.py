"""An app serving the recommendation API alone: `vibeshelf.serve.recommend_app:create_recommend_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from vibeshelf.serve.deps import OptionalRecommender
from vibeshelf.serve.errors import install_error_handlers
from vibeshelf.serve.head import HeadAsGet
from vibeshelf.serve.limits import BodySizeLimit, body_limits
from vibeshelf.serve.metrics import install_metrics
from vibeshelf.serve.openapi import document_errors
from vibeshelf.serve.recommend_api import router
from vibeshelf.serve.services import Services
from vibeshelf.settings import Settings, get_settings


def create_recommend_app(settings: Settings | None = None) -> FastAPI:
    """An app serving only the recommendation API (tests, benchmarks, a recommendations-only node)."""
    settings = settings or get_settings()
    services = Services.for_settings(settings, frozenset({"recommend"}))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with services.loaded():
            app.state.services = services
            yield

    app = FastAPI(title="vibeshelf recommendations", lifespan=lifespan)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, limits=body_limits(settings))
    install_metrics(app, services.metrics)
    app.add_middleware(HeadAsGet)
    app.include_router(router)

    @app.get("/health", tags=["ops"])
    def health(service: OptionalRecommender) -> dict[str, object]:
        return {
            "status": "ok" if service else "degraded",
            "recommender": service.health() if service else None,
        }

    document_errors(app)
    return app
