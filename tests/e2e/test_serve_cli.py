"""`vibeshelf serve` as a person runs it: it loads what it serves once, says where it serves only
once its port answers (one process, or gunicorn workers), and routes to an experiment registry
made with the CLI after it started, on a request about a second later."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, VIBESHELF, free_port, run_cli

UPDATE_SECONDS = 0.5
QUERY = {"q": "cozy village mystery"}


class ServeProcess:
    """`vibeshelf serve` on a free loopback port, its merged output read line by line meanwhile."""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("VIBESHELF_")}
        self.proc = subprocess.Popen(
            [*VIBESHELF, "serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
            env={**clean, "VIBESHELF_DATA_DIR": str(data_dir), **(env or {})},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
        )
        self.lines: list[str] = []
        self._new: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self._new.put(line.rstrip("\n"))
        self._new.put(None)

    def wait_for(self, text: str, timeout: float = 120) -> str:
        """The first line holding `text`, already read or still to come; fails if the process
        ends or time runs out first."""
        deadline = time.monotonic() + timeout
        while not (found := [line for line in self.lines if text in line]):
            try:
                line = self._new.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {text!r} in {timeout}s:\n" + "\n".join(self.lines)) from None
            if line is None:
                raise AssertionError("serve exited:\n" + "\n".join(self.lines))
            self.lines.append(line)
        return found[0]

    def stop(self) -> None:
        """Terminate it (kill it if it lingers) and let the reader finish."""
        self.proc.terminate()
        self._reader.join(timeout=30)
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@dataclass
class Announcement:
    """The line saying where it serves, and the answer to a GET sent the moment it came."""

    line: str
    status: int | str


def announcement(server: ServeProcess) -> Announcement:
    line = server.wait_for("serving on http")
    try:
        return Announcement(line, httpx.get(f"{server.url}/health", timeout=10).status_code)
    except httpx.HTTPError as exc:
        return Announcement(line, f"no answer: {exc!r}")


@contextmanager
def serving_a_copy(
    sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]
) -> Iterator[tuple[ServeProcess, Announcement]]:
    """One worker on a copy of the sample without an experiment registry, up and listening."""
    data_dir = tmp_path_factory.mktemp("serve-cli") / "data"
    shutil.copytree(sample_data_dir, data_dir, ignore=shutil.ignore_patterns("logs", "experiments"))
    server = ServeProcess(data_dir, "--no-auth", env=env)
    try:
        announced = announcement(server)
        server.wait_for("Uvicorn running on")  # up, whenever it said so
        yield server, announced
    finally:
        server.stop()


@pytest.fixture(scope="module")
def started(
    sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServeProcess, Announcement]]:
    """A server whose bandit task also looks for a registry every UPDATE_SECONDS."""
    env = {"VIBESHELF_EXPERIMENT__UPDATE_SECONDS": str(UPDATE_SECONDS)}
    with serving_a_copy(sample_data_dir, tmp_path_factory, env) as started:
        yield started


@pytest.fixture(scope="module")
def served_by_default(
    sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServeProcess]:
    """A server with the default settings: no periodic task (experiment.update_seconds = 0)."""
    with serving_a_copy(sample_data_dir, tmp_path_factory, {}) as (server, _):
        yield server


@pytest.fixture
def served(started: tuple[ServeProcess, Announcement]) -> ServeProcess:
    return started[0]


def test_serve_says_where_it_serves_once_the_port_answers(
    started: tuple[ServeProcess, Announcement],
) -> None:
    server, announced = started
    assert announced == Announcement(f"serving on {server.url}", 200), "\n".join(server.lines)


def test_serve_loads_the_runtime_once(served: ServeProcess) -> None:
    lines = served.lines  # all it wrote until it listened
    loads = [line for line in lines if "vibeshelf.serve.runtime: serving " in line]
    encoders = [line for line in lines if "vibeshelf.embed.encoder: loaded " in line]
    assert len(loads) == 1 and len(encoders) == 1, "\n".join(lines)


@pytest.mark.parametrize("server", ["served", "served_by_default"])
def test_a_registry_made_after_start_up_is_routed_to(
    server: str, request: pytest.FixtureRequest
) -> None:
    """With the periodic task or without it, the next search after the registry appears (within
    about a second) is routed by it."""
    served: ServeProcess = request.getfixturevalue(server)
    before = httpx.get(f"{served.url}/api/search", params=QUERY, timeout=30)
    assert before.status_code == 200 and "x-vibeshelf-version" not in before.headers
    assert httpx.get(f"{served.url}/api/experiments", timeout=30).status_code == 404
    run_cli("models", "add", "s-late", "--surface", "search", data_dir=served.data_dir)
    run_cli("models", "activate", "s-late", data_dir=served.data_dir)
    created = time.monotonic()
    while time.monotonic() - created < UPDATE_SECONDS + 15:  # the interval, and a loaded machine
        after = httpx.get(f"{served.url}/api/search", params=QUERY, timeout=30)
        if after.headers.get("x-vibeshelf-version") == "s-late":
            break
        time.sleep(0.1)
    assert after.headers.get("x-vibeshelf-version") == "s-late" and after.json()["version"] == "s-late"
    report = httpx.get(f"{served.url}/api/experiments", timeout=30)
    assert report.status_code == 200 and "s-late" in str(report.json()["surfaces"]["search"])


def test_gunicorn_workers_say_where_once_one_answers(tmp_path: Path) -> None:
    """`--workers 2` (the encoder alone, so only the bundled model loads): the announcement comes
    from gunicorn's master once a worker answers, not when the master starts."""
    server = ServeProcess(tmp_path, "--workers", "2", "--only", "encode", "--no-auth")
    try:
        announced = announcement(server)
    finally:
        server.stop()
    assert announced == Announcement(f"serving on {server.url}", 200), "\n".join(server.lines)
