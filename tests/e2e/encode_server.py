"""A real `vibeshelf serve --only encode` process on 127.0.0.1 whose JSON log lines are kept,
and checks of what the service answers."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import REPO, VIBESHELF, free_port
from tests.processes import stop_process

API_KEY = "test-key-0123456789abcdef"
READ_ONLY_KEY = "read-only-key-0123456789"
LIMITED_KEY = "limited-key-0123456789ab"
THROTTLED_KEY = "throttled-key-0123456789"
DOTTED_KEY = "dotted.api.key-0123456789"  # shaped like a JWT: header.payload.signature
JWT_SECRET = "jwt-secret-for-tests-0123456789abcdef"
KEYS_JSON = (
    f'{{"tests": {{"key": "{API_KEY}", "scopes": ["encode"]}}, '
    f'"reader": {{"key": "{READ_ONLY_KEY}", "scopes": ["read"]}}, '
    f'"limited": {{"key": "{LIMITED_KEY}", "scopes": ["encode"], "rate_per_s": 0.5}}, '
    f'"throttled": {{"key": "{THROTTLED_KEY}", "scopes": ["encode"], "rate_per_s": 0.5}}, '
    f'"dotted": {{"key": "{DOTTED_KEY}", "scopes": ["encode"]}}}}'
)



@dataclass(frozen=True)
class Limits:
    """What the test server accepts per request."""

    texts: int = 32
    chars: int = 2000
    body: int = 65536


LIMITS = Limits()
# Small limits, the keys above, and a default rate high enough that only a keyed rate or the
# burst (40 texts) ever throttles.
LIMITED_ENV = {
    "VIBESHELF_AUTH__API_KEYS": KEYS_JSON,
    "VIBESHELF_ENCODE__MAX_TEXTS": str(LIMITS.texts),
    "VIBESHELF_ENCODE__MAX_TEXT_CHARS": str(LIMITS.chars),
    "VIBESHELF_ENCODE__MAX_BODY_BYTES": str(LIMITS.body),
    "VIBESHELF_ENCODE__RATE_LIMIT_PER_S": "100000",
    "VIBESHELF_ENCODE__RATE_LIMIT_BURST": "40",
}


def error(resp: httpx.Response, code: int) -> str:
    """The JSON error's description, after checking its shape and code."""
    assert resp.status_code == code, resp.text
    body = resp.json()
    assert set(body) == {"code", "name", "description"} and body["code"] == code
    assert "Traceback" not in resp.text
    return str(body["description"])


def timed(resp: httpx.Response) -> None:
    """Checks the response carries the service's timing headers."""
    assert re.fullmatch(r"\d+\.\d{2}ms", resp.headers["X-Process-Time"]), resp.headers
    assert "app;dur=" in resp.headers["Server-Timing"], resp.headers


class EncodeServer:
    """Started on construction; `lines` collects everything it prints (read by a thread)."""

    def __init__(self, data_dir: Path, env: dict[str, str], *args: str) -> None:
        self.url = f"http://127.0.0.1:{(port := free_port())}"
        full_env = {
            **os.environ, "VIBESHELF_DATA_DIR": str(data_dir), "VIBESHELF_LOG_FORMAT": "json", **env,
        }
        self.proc = subprocess.Popen(
            [*VIBESHELF, "serve", "--only", "encode", "--host", "127.0.0.1", "--port", str(port), *args],
            env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_ready(self, timeout: float = 60) -> EncodeServer:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._reader.join(5)
                raise AssertionError("server exited early:\n" + "\n".join(self.lines))
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("server did not become ready")

    def running(self) -> Iterator[EncodeServer]:
        """For a fixture: the server once ready, stopped afterwards."""
        try:
            yield self.wait_ready()
        finally:
            self.stop()

    def stop(self) -> list[str]:
        """Stops the server (once) and returns every line it printed."""
        stop_process(self.proc)
        self._reader.join(5)
        return self.lines
