"""Run the HTTP server (uvicorn here, or gunicorn with uvicorn workers) and say where it serves
once its port answers."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, NoReturn

from vibeshelf.serve.announce import announce_in_thread

if TYPE_CHECKING:
    from fastapi import FastAPI


def run_uvicorn(app: FastAPI, host: str, port: int) -> None:
    """Serve `app` (already loaded) in this process until stopped."""
    import uvicorn

    announce_in_thread(host, port)
    uvicorn.run(app, host=host, port=port, log_config=None)


def exec_gunicorn(
    host: str, port: int, workers: int, log_level: str, env: Mapping[str, str]
) -> NoReturn:
    """Become gunicorn, with `env` added to the environment: `workers` uvicorn workers, each
    loading the app itself."""
    argv = [
        sys.executable, "-m", "gunicorn", "vibeshelf.serve.asgi:app",
        "--config", "python:vibeshelf.serve.gunicorn_conf",
        "--worker-class", "uvicorn_worker.UvicornWorker",
        "--workers", str(workers), "--bind", f"{host}:{port}",
        "--log-level", log_level.lower(),
    ]
    os.execve(sys.executable, argv, {**os.environ, **env})
