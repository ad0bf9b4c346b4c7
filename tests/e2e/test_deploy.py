"""The shipped deployment files, run as the docs say: gunicorn workers behind deploy/nginx.conf."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DEPLOY = REPO / "deploy"


def wait_ok(url: str, proc: subprocess.Popen[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args} exited early:\n{proc.stdout.read()}")  # type: ignore[union-attr]
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200")


def stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    try:
        return proc.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[0]


@pytest.fixture(scope="module")
def app_port(sample_data_dir: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """`vibeshelf serve --workers 2` (gunicorn + uvicorn workers) on a free loopback port."""
    port = free_port()
    env = {**os.environ, "VIBESHELF_DATA_DIR": str(sample_data_dir), "VIBESHELF_SERVE__QUERY_LOG": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vibeshelf", "serve", "--workers", "2", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    wait_ok(f"http://127.0.0.1:{port}/health", proc)
    yield port, proc
    out = stop(proc)
    assert out.count("Booting worker with pid") == 2, out


@pytest.fixture(scope="module")
def proxy(app_port: tuple[int, subprocess.Popen[str]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """deploy/nginx.conf with this test's ports, run in the foreground from a scratch prefix."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed: scripts/setup.sh --test installs it (apt)")
    prefix = tmp_path_factory.mktemp("nginx")
    port = free_port()
    conf = (DEPLOY / "nginx.conf").read_text()
    assert "server 127.0.0.1:8000;" in conf and "listen 127.0.0.1:8080;" in conf
    conf = conf.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port[0]};")
    conf = conf.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{port};")
    (prefix / "nginx.conf").write_text(conf)
    proc = subprocess.Popen(
        [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ok(f"{url}/health", proc, timeout=30)
    yield url
    stop(proc)


def test_search_and_page_through_the_proxy(proxy: str) -> None:
    with httpx.Client(base_url=proxy) as client:
        responses = [client.get("/api/search", params={"q": f"dragons and a quest {i}"}) for i in range(12)]
    assert [r.status_code for r in responses] == [200] * 12
    assert all(r.json()["results"] for r in responses)
    page = httpx.get(f"{proxy}/", params={"q": "cozy mystery"})
    assert page.status_code == 200 and "result" in page.text


def test_prometheus_scrape_config_finds_the_metrics(proxy: str, app_port: tuple[int, subprocess.Popen[str]]) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["static_configs"][0]["targets"] == ["app:8000"]  # the compose service and port
    body = httpx.get(f"http://127.0.0.1:{app_port[0]}{job['metrics_path']}").text
    names = {family.name for family in text_string_to_metric_families(body)}
    assert {"vibeshelf_http_requests", "vibeshelf_http_request_duration_seconds"} <= names


def test_compose_runs_the_commands_the_docs_name() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"app", "nginx", "redis", "postgres", "prometheus"} <= set(services)
    assert services["app"]["command"][:2] == ["vibeshelf", "serve"]
    assert "deploy/nginx.conf" in services["nginx"]["volumes"][0]
    assert "${POSTGRES_PASSWORD:?" in services["postgres"]["environment"]["POSTGRES_PASSWORD"]
