"""Shared fixtures: the bundled sample built once into a data dir, and a real server on loopback."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, NoReturn

import httpx
import pytest

from tests.processes import stop_process

if TYPE_CHECKING:
    from vibeshelf.recommend.artifacts import RecsModel

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
VIBESHELF = [sys.executable, "-m", "vibeshelf"]
SERVER_API_KEY = "e2e-server-key-0123456789"  # a trusted backend: every scope
SERVER_ENCODE_KEY = "e2e-encode-key-0123456789"  # /v1 only
SERVER_JWT_SECRET = "e2e-server-jwt-secret-0123456789abcdef"
SERVER_KEYS = {
    "e2e": {"key": SERVER_API_KEY, "scopes": ["encode", "events", "recommend"]},
    "e2e-encode": {"key": SERVER_ENCODE_KEY, "scopes": ["encode"]},
}
BACKEND = {"X-API-Key": SERVER_API_KEY}


def run_cli(
    *args: str, data_dir: Path, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `vibeshelf` CLI against a data dir, with `env` added to the environment."""
    env = {**os.environ, "VIBESHELF_DATA_DIR": str(data_dir), **(env or {})}
    result = subprocess.run(
        [*VIBESHELF, *args], env=env, capture_output=True, text=True, timeout=900, cwd=REPO,
        check=False,  # the caller decides; failures are raised below with the output
    )
    if check and result.returncode != 0:
        raise AssertionError(f"vibeshelf {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unavailable(reason: str) -> NoReturn:
    """Skip where a developer lacks a server; fail loudly in CI, where it must be installed."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run these tests: scripts/setup.sh --test installs it)")
    pytest.skip(reason)


def require(*modules: str) -> None:
    """Import each module, or report it `unavailable` (a skip locally, a failure in CI)."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            unavailable(f"{name} is not installed ({exc})")


def eval_script(name: str) -> ModuleType:
    """A script of eval/ imported as a module (eval/ goes on sys.path: the scripts import each other)."""
    folder = str(REPO / "eval")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(name)


@pytest.fixture(scope="session")
def redisearch_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Valkey server with RediSearch on 127.0.0.1 for the whole session."""
    from tests.redis_server import redis_server

    with redis_server(tmp_path_factory.mktemp("redisearch"), search=True) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server (with pgvector) on 127.0.0.1 for the whole session."""
    from tests.postgres_server import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def sample_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the bundled sample, embedded and indexed by the CLI (`demo --no-serve`).

    VIBESHELF_TEST_SAMPLE_SEED may name an earlier such data dir: its vectors are copied first, so
    the demo reuses them where unchanged and builds everything else anew.
    """
    data_dir = tmp_path_factory.mktemp("vibeshelf-data")
    seed = os.environ.get("VIBESHELF_TEST_SAMPLE_SEED")
    if seed:  # a developer's earlier sample data dir: its vectors are reused, everything else rebuilt
        shutil.copytree(Path(seed) / "embeddings", data_dir / "embeddings")
    run_cli("demo", "--no-serve", data_dir=data_dir)
    return data_dir


class Server:
    """A `vibeshelf serve --only all` process on 127.0.0.1: search public; /v1, reader events and
    recommendations for a user_id behind SERVER_KEYS or JWTs signed with SERVER_JWT_SECRET."""

    def __init__(
        self, data_dir: Path, port: int, env: dict[str, str] | None = None,
        cli_args: tuple[str, ...] = (),
    ) -> None:
        self.data_dir = data_dir
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "VIBESHELF_DATA_DIR": str(data_dir), "VIBESHELF_LOG_FORMAT": "json",
               "VIBESHELF_AUTH__API_KEYS": json.dumps(SERVER_KEYS),
               "VIBESHELF_AUTH__JWT_SECRET": SERVER_JWT_SECRET, **(env or {})}
        self.proc = subprocess.Popen(
            [*VIBESHELF, "serve", "--only", "all", "--host", "127.0.0.1", "--port", str(port),
             *cli_args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
        )
        # Read as it comes, so a busy server never blocks on a full pipe of access log lines.
        self.lines: list[str] = []
        self._reader = threading.Thread(
            target=self.lines.extend, args=(self.proc.stdout,), daemon=True
        )
        self._reader.start()

    def output(self) -> str:
        """Everything the server printed (all of it once the process has exited)."""
        if self.proc.poll() is not None:
            self._reader.join(timeout=15)
        return "".join(self.lines)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("server did not become ready")

    def stop(self) -> str:
        stop_process(self.proc)
        return self.output()


@contextmanager
def running(server: Server) -> Iterator[Server]:
    """`server` once it answers, stopped on the way out."""
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def server(sample_data_dir: Path) -> Iterator[Server]:
    with running(Server(sample_data_dir, free_port())) as srv:
        yield srv


@pytest.fixture(scope="module")
def recs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the goodbooks catalog, the Book-Crossing interactions and a trained model."""
    from tests.contracts.recommender import recs_data_dir

    return recs_data_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def recs_model(recs_dir: Path) -> RecsModel:
    """The model trained in `recs_dir`."""
    from vibeshelf.recommend.artifacts import load_model, recs_root
    from vibeshelf.settings import Settings

    return load_model(recs_root(Settings(data_dir=recs_dir)))
