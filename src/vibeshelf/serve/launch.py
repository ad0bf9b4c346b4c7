"""Run the HTTP server (uvicorn here, or gunicorn with uvicorn workers) and say where it serves
once its port answers."""

from __future__ import annotations

import http.client
import os
import sys
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from fastapi import FastAPI

POLL_SECONDS = 0.1
PROBE_TIMEOUT_SECONDS = 2.0
LOOPBACK_FOR = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def run_uvicorn(app: FastAPI, host: str, port: int) -> None:
    """Serve `app` (already loaded) in this process until stopped."""
    import uvicorn

    announce_when_answering(host, port)
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


def announce_when_answering(host: str, port: int) -> threading.Thread:
    """In the background: print `serving on http://HOST:PORT` once an HTTP request to the port
    gets an answer (any status), that is once start-up has completed."""
    thread = threading.Thread(target=_announce, args=(host, port), name="announce", daemon=True)
    thread.start()
    return thread


def _announce(host: str, port: int) -> None:
    probe = LOOPBACK_FOR.get(host, host)
    while not _answers(probe, port):
        time.sleep(POLL_SECONDS)
    print(f"serving on http://{f'[{host}]' if ':' in host else host}:{port}", flush=True)


def _answers(host: str, port: int) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=PROBE_TIMEOUT_SECONDS)
    try:
        connection.request("GET", "/health")
        connection.getresponse()
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
    return True
