"""`vibeshelf serve`: check it is safe and there is something to serve, then serve it."""

from __future__ import annotations

import ipaddress
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vibeshelf.cli.errors import fail
from vibeshelf.cli.loading import load_encoder, load_runtime
from vibeshelf.cli.settings import current_settings, with_section
from vibeshelf.config.core import Apis
from vibeshelf.config.extras import MissingExtraError, require_extra
from vibeshelf.logs import configure_logging
from vibeshelf.serve.launch import exec_gunicorn, run_uvicorn
from vibeshelf.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Interface to bind (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (>1 uses gunicorn).")] = None,
    only: Annotated[
        Apis | None,
        typer.Option(
            "--only",
            help="search: the page, /api/* and /health; encode: the /v1 embedding service "
            "(needs only the model); all: both. Default from settings (search).",
        ),
    ] = None,
    no_auth: Annotated[
        bool,
        typer.Option(
            "--no-auth",
            help="Serve without credentials (loopback hosts only): /v1, reader events and "
            "recommendations for a user_id open to anyone who can reach the server.",
        ),
    ] = False,
    allow_public_no_auth: Annotated[
        bool,
        typer.Option(
            "--allow-public-no-auth",
            help="With --no-auth, bind a non-loopback host anyway (insecure).",
        ),
    ] = False,
) -> None:
    """Serve the web page and JSON API with uvicorn (gunicorn + uvicorn workers when --workers > 1)."""
    from vibeshelf.serve.handoff import handoff_env

    settings = current_settings(ctx)
    if only is not None:
        settings = with_section(settings, "serve", apis=only)
    if no_auth:
        settings = with_section(settings, "auth", enabled=False)
    host = host or settings.serve.host
    port = port or settings.serve.port
    workers = workers or settings.serve.workers
    if workers > 1:
        try:
            require_extra("server", "--workers > 1 (gunicorn with uvicorn workers)")
        except MissingExtraError as exc:
            fail(str(exc))
    threads = _default_threads(settings.serve.apis, workers)
    if threads is not None and "threads" not in settings.model.model_fields_set:
        settings = with_section(settings, "model", threads=threads)
    configure_logging(settings.log_format, settings.log_level)
    _check_serving(settings, host, allow_public_no_auth)
    if workers == 1:
        run_uvicorn(_loaded_app(settings), host, port)
        return
    _check_loads(settings)
    env = handoff_env(settings) | _shared_metrics(settings.data_dir / "run" / f"metrics-{port}")
    exec_gunicorn(host, port, workers, settings.log_level, env)


def _default_threads(apis: Apis, workers: int) -> int | None:
    """Encoder threads per process where none were chosen (None: the settings' default).

    /v1 runs `encode.workers` single-threaded encoder runs side by side, which under load beats
    runs spread over every core (bench/encode.py); gunicorn's workers split the cores.
    """
    if apis != "search":
        return 1
    if workers > 1:
        return max(1, (os.cpu_count() or 1) // workers)
    return None


def _shared_metrics(path: Path) -> dict[str, str]:
    """Let gunicorn's workers keep their Prometheus counts in files under `path`, emptied now, so
    /metrics on any worker reports them all (unless PROMETHEUS_MULTIPROC_DIR names a dir already)."""
    from vibeshelf.serve.metrics import MULTIPROC_ENV

    if os.environ.get(MULTIPROC_ENV):
        return {}
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return {MULTIPROC_ENV: str(path)}


def _check_serving(settings: Settings, host: str, allow_public_no_auth: bool) -> None:
    """Fail fast, with a clear message, before binding a port."""
    from vibeshelf.serve.auth import AuthConfigError, Authenticator

    try:
        Authenticator(settings.auth)
    except AuthConfigError as exc:
        fail(str(exc))
    if not settings.auth.enabled:
        if not is_loopback(host) and not allow_public_no_auth:
            fail(
                f"--no-auth would open /v1 and readers' events and recommendations to anyone who "
                f"can reach {host}: bind 127.0.0.1, configure API keys or a JWT secret, or pass "
                "--allow-public-no-auth"
            )
        v1 = "use /v1, " if settings.serve.apis != "search" else ""
        typer.secho(
            f"AUTH IS OFF: anyone who can reach {host} may {v1}write any reader's events and "
            "read any reader's recommendations",
            err=True, fg=typer.colors.YELLOW,
        )


def _loaded_app(settings: Settings) -> FastAPI:
    """The app with what it serves loaded here, once; exit 2 with a clear message when there is
    nothing to serve yet."""
    from vibeshelf.serve.app import create_app

    if settings.serve.apis == "encode":
        return create_app(settings, encoder=load_encoder(settings))
    return create_app(settings, runtime=load_runtime(settings))


def _check_loads(settings: Settings) -> None:
    """Load what gunicorn's workers will serve and let it go (each worker loads its own), so that
    nothing to serve yet fails here, with a clear message, rather than in every worker."""
    if settings.serve.apis == "encode":
        load_encoder(settings)
    else:
        load_runtime(settings).close()


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address or `localhost`."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
