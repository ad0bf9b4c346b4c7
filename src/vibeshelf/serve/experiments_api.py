"""The experiment routes: /api/feedback (the page's click beacon), result links, the dashboard."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from vibeshelf.experiment.feedback.events import (
    DuplicateFeedbackError,
    Feedback,
    FeedbackLimitError,
    UnknownRequestError,
)
from vibeshelf.experiment.report import experiment_report, surface_charts
from vibeshelf.experiment.router import ExperimentRouter
from vibeshelf.serve import served_events
from vibeshelf.serve.deps import (
    Experiments,
    OptionalExperiments,
    SearchRuntime,
    ServicesDep,
    Signer,
    require_experiments,
)
from vibeshelf.serve.openapi import error_responses
from vibeshelf.serve.routing import presented_session
from vibeshelf.serve.service_charts import count_chart, latency_chart
from vibeshelf.serve.service_figures import service_figures
from vibeshelf.serve.sessions import SessionSigner
from vibeshelf.storage.errors import StorageError

log = logging.getLogger(__name__)

templates = Jinja2Templates(directory=FilePath(__file__).parent / "templates")
router = APIRouter(tags=["experiments"], responses=error_responses(404))


class FeedbackResponse(BaseModel):
    surface: str
    version: str


NO_SESSION = (
    "feedback needs the reader session the request was served to: the vibeshelf_session cookie "
    "or X-Vibeshelf-Session header that the search answer handed out"
)
RETRY_FEEDBACK_SECONDS = 3600


def record_feedback(
    request: Request, feedback: Feedback, experiments: ExperimentRouter, signer: SessionSigner
) -> FeedbackResponse:
    """Store one event of the caller's session (committed before this returns) or raise the
    matching HTTP error."""
    session = presented_session(request, signer)
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
    served_events.fed_back(request, feedback, served)
    return FeedbackResponse(surface=served.surface, version=served.version)


@router.post(
    "/api/feedback", response_model=FeedbackResponse, status_code=201,
    responses=error_responses(409, 503),
)
def api_feedback(
    request: Request, body: Feedback, experiments: OptionalExperiments, signer: Signer
) -> FeedbackResponse:
    """What a reader did with a result served to their session.

    403 without that session, 404 for a request not served to it, 409 for a repeat, 429 past
    `experiment.max_feedback_per_hour` events of the session. The search page sends clicks here
    itself, as a JSON beacon (`navigator.sendBeacon`, which carries the session cookie).
    """
    return record_feedback(request, body, require_experiments(experiments), signer)


@router.get("/go/{request_id}/{position}", include_in_schema=False)
def follow_result(
    runtime: SearchRuntime,
    request_id: Annotated[str, Path(max_length=64)],
    position: Annotated[int, Path(ge=1, le=500)],
    book: Annotated[str, Query(max_length=200)],
) -> RedirectResponse:
    """A 302 to the book's page (only ever a catalog book's URL); records nothing, as any page
    could make a browser GET it: clicks arrive by POST, the page's beacon to /api/feedback."""
    found = runtime.catalog.get(book)
    if found is None:
        raise HTTPException(404, f"unknown book id: {book}")
    return RedirectResponse(found.url or f"/books/{book}", status_code=302)


@router.get("/api/experiments")
def api_experiments(experiments: Experiments) -> dict[str, Any]:
    """Per surface and version: status, weight, impressions, clicks, CTR and its 95% interval, history."""
    return experiment_report(experiments.registry_file, experiments.rollup)


@router.get("/experiments", response_class=HTMLResponse, include_in_schema=False)
def experiments_page(
    request: Request, experiments: OptionalExperiments, found: ServicesDep
) -> HTMLResponse:
    """The dashboard: per surface its versions and charts (without a registry, how to start one),
    then the service's own latency, throughput, two-stage stage times and candidates per source."""
    report = charts = None
    if experiments is not None:
        report = api_experiments(experiments)
        end = datetime.now(UTC)
        charts = {surface: surface_charts(data, end) for surface, data in report["surfaces"].items()}
    service = service_figures(found.metrics)
    service_charts = {
        "routes": latency_chart("routes", "Request latency by route, ms", service.routes),
        "stages": latency_chart("stages", "Two-stage stage time, ms", service.stages),
        "candidates": count_chart("candidates", "Candidates proposed by source", service.candidates),
    }
    return templates.TemplateResponse(
        request, "experiments.html",
        {"report": report, "charts": charts, "service": service, "service_charts": service_charts},
    )
