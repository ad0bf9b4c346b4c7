"""Experiments on the app: version routing, /api/feedback (the page's click beacon), the dashboard."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from starlette.datastructures import State

from vibeshelf.experiment.feedback import (
    DuplicateFeedbackError,
    Feedback,
    FeedbackLimitError,
    Retention,
    UnknownRequestError,
    open_feedback,
)
from vibeshelf.experiment.registry import ModelVersion, RegistryFile
from vibeshelf.experiment.report import experiment_report, surface_charts
from vibeshelf.experiment.router import ExperimentRouter
from vibeshelf.recommend.service import RecommendService
from vibeshelf.search.service import SearchService
from vibeshelf.serve.metrics import Metrics
from vibeshelf.serve.openapi import error_responses
from vibeshelf.serve.recommend_api import load_recommender
from vibeshelf.serve.routing import presented_session
from vibeshelf.serve.runtime import Runtime
from vibeshelf.settings import Settings
from vibeshelf.storage.errors import StorageError

log = logging.getLogger(__name__)

templates = Jinja2Templates(directory=FilePath(__file__).parent / "templates")
router = APIRouter(tags=["experiments"], responses=error_responses(404))


def load_experiments(settings: Settings, runtime: Runtime, metrics: Metrics) -> ExperimentRouter | None:
    """The router over <data_dir>/experiments/registry.json, or None (today's serving) without one."""
    registry_file = RegistryFile(settings.experiments_dir)
    if not registry_file.exists():
        return None

    def search_version(version: ModelVersion) -> SearchService:
        if version.target.get("index_build") != runtime.store.manifest.build_id:
            log.warning("search version %s was registered on index build %s; serving build %s",
                        version.name, version.target.get("index_build"), runtime.store.manifest.build_id)
        ranking = {k: v for k, v in version.target.get("ranking", {}).items() if v is not None}
        return runtime.search.with_settings(settings.search.model_copy(update=ranking))

    def recommend_version(version: ModelVersion) -> RecommendService | None:
        return load_recommender(settings, runtime.store, str(version.target["recs_version"]))

    options = settings.experiment
    retention = Retention(options.served_max_rows, options.served_max_days)
    store = open_feedback(options.feedback_url, settings.experiments_dir, retention)
    loaders = {"search": search_version, "recommend": recommend_version}
    return ExperimentRouter(registry_file, store, settings.experiment, loaders, metrics)


@asynccontextmanager
async def periodic_updates(
    state: State, load: Callable[[], ExperimentRouter | None], seconds: float
) -> AsyncIterator[None]:
    """Every `seconds` (when > 0), in a thread, for as long as the app runs: one bandit update of
    `state.experiments`, or, while there is none, `load()` into it (a registry made after
    start-up)."""
    if seconds <= 0:
        yield
        return

    async def loop() -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await _update_or_load(state, load)
            except (StorageError, OSError, ValueError) as exc:
                log.error("experiment update failed: %s", exc)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()


async def _update_or_load(state: State, load: Callable[[], ExperimentRouter | None]) -> None:
    experiments: ExperimentRouter | None = state.experiments
    if experiments is not None:
        await asyncio.to_thread(experiments.update)
        return
    state.experiments = await asyncio.to_thread(load)
    if state.experiments is not None:
        log.info("experiment registry found: routing by it from now on")


class FeedbackResponse(BaseModel):
    surface: str
    version: str


def _require(request: Request) -> ExperimentRouter:
    experiments: ExperimentRouter | None = getattr(request.app.state, "experiments", None)
    if experiments is None:
        raise HTTPException(404, "no experiment is configured: add versions with `vibeshelf models`")
    return experiments


NO_SESSION = (
    "feedback needs the reader session the request was served to: the vibeshelf_session cookie "
    "or X-Vibeshelf-Session header that the search answer handed out"
)
RETRY_FEEDBACK_SECONDS = 3600


def record_feedback(request: Request, feedback: Feedback) -> FeedbackResponse:
    """Store one event of the caller's session (committed before this returns) or raise the
    matching HTTP error."""
    experiments = _require(request)
    session = presented_session(request)
    if session is None:
        raise HTTPException(403, NO_SESSION)
    try:
        served = experiments.feedback(feedback, session.id)
    except UnknownRequestError as exc:
        raise HTTPException(404, str(exc)) from exc
    except DuplicateFeedbackError as exc:
        raise HTTPException(409, str(exc)) from exc
    except FeedbackLimitError as exc:
        raise HTTPException(
            429, str(exc), headers={"Retry-After": str(RETRY_FEEDBACK_SECONDS)}
        ) from exc
    except StorageError as exc:
        log.error("feedback store unavailable: %s", exc)
        raise HTTPException(503, "the feedback store is unavailable") from exc
    return FeedbackResponse(surface=served.surface, version=served.version)


@router.post(
    "/api/feedback", response_model=FeedbackResponse, status_code=201,
    responses=error_responses(409, 503),
)
def api_feedback(request: Request, body: Feedback) -> FeedbackResponse:
    """What a reader did with a result served to their session.

    403 without that session, 404 for a request not served to it, 409 for a repeat, 429 past
    `experiment.max_feedback_per_hour` events of the session. The search page sends clicks here
    itself, as a JSON beacon (`navigator.sendBeacon`, which carries the session cookie).
    """
    return record_feedback(request, body)


@router.get("/go/{request_id}/{position}", include_in_schema=False)
def follow_result(
    request: Request,
    request_id: Annotated[str, Path(max_length=64)],
    position: Annotated[int, Path(ge=1, le=500)],
    book: Annotated[str, Query(max_length=200)],
) -> RedirectResponse:
    """A 302 to the book's page (only ever a catalog book's URL); records nothing, as any page
    could make a browser GET it: clicks arrive by POST, the page's beacon to /api/feedback."""
    found = request.app.state.runtime.catalog.get(book)
    if found is None:
        raise HTTPException(404, f"unknown book id: {book}")
    return RedirectResponse(found.url or f"/books/{book}", status_code=302)


@router.get("/api/experiments")
def api_experiments(request: Request) -> dict[str, Any]:
    """Per surface and version: status, weight, impressions, clicks, CTR and its 95% interval, history."""
    experiments = _require(request)
    return experiment_report(experiments.registry_file, experiments.store)


@router.get("/experiments", response_class=HTMLResponse, include_in_schema=False)
def experiments_page(request: Request) -> HTMLResponse:
    """The dashboard: per surface its versions and charts; without a registry, how to start one."""
    report = charts = None
    if getattr(request.app.state, "experiments", None) is not None:
        report = api_experiments(request)
        end = datetime.now(UTC)
        charts = {surface: surface_charts(data, end) for surface, data in report["surfaces"].items()}
    return templates.TemplateResponse(
        request, "experiments.html", {"report": report, "charts": charts}
    )
