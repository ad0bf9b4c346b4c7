"""A real Prometheus (the Debian package) on 127.0.0.1, scraping given targets every second."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.conftest import free_port, unavailable
from tests.processes import stop_process


@contextmanager
def prometheus(targets: list[str], workdir: Path) -> Iterator[str]:
    """The base URL of a Prometheus scraping `targets` (host:port) at /metrics every second."""
    binary = shutil.which("prometheus")
    if binary is None:
        unavailable("prometheus is not installed (apt-get install prometheus)")
    config = workdir / "prometheus.yml"
    config.write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": "vibeshelf", "static_configs": [{"targets": targets}]}],
    }))
    url = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'tsdb'}",
         f"--web.listen-address={url.removeprefix('http://')}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _ready(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_process(proc)
                raise AssertionError(f"prometheus did not start: {proc.stderr.read()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.2)
        yield url
    finally:
        stop_process(proc)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def query(url: str, expr: str) -> list[dict[str, Any]]:
    """The instant vector `expr` evaluates to now (a PromQL error fails the caller)."""
    body = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert body["status"] == "success", f"{expr}: {body}"
    return body["data"]["result"]  # type: ignore[no-any-return]


def scraped(url: str, job: str) -> int:
    """How many scrapes of `job` have succeeded so far."""
    found = query(url, f'count_over_time(up{{job="{job}"}}[10m]) and up{{job="{job}"}} == 1')
    return int(float(found[0]["value"][1])) if found else 0
