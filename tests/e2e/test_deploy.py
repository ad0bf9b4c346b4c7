"""The deployment as the docs run it: gunicorn workers behind deploy/nginx.conf, or on one Redis."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO, free_port, run_cli
from tests.processes import stop_group

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


@pytest.fixture(scope="module")
def app_port(sample_data_dir: Path) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """`vibeshelf serve --workers 2` (gunicorn + uvicorn workers) on a free loopback port."""
    port = free_port()
    env = {**os.environ, "VIBESHELF_DATA_DIR": str(sample_data_dir), "VIBESHELF_SERVE__QUERY_LOG": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vibeshelf", "serve", "--workers", "2", "--host", "127.0.0.1",
         "--port", str(port), "--no-auth"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    wait_ok(f"http://127.0.0.1:{port}/health", proc)
    yield port, proc
    out = stop_group(proc)
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
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ok(f"{url}/health", proc, timeout=30)
    yield url
    stop_group(proc)


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


def children(pid: int, running: str) -> set[int]:
    """The ids of the processes whose parent is `pid` and whose command line holds `running`."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):  # the process has just gone
            continue
        if ppid == pid and running.encode() in command:
            found.add(int(stat.parent.name))
    return found


def connection_owners(server_port: int, pids: set[int]) -> dict[int, int]:
    """Client port -> the pid among `pids` holding the server end of that loopback connection."""
    inode_port = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, remote, inode = (line.split()[i] for i in (1, 2, 9))
        if int(local.split(":")[1], 16) == server_port:
            inode_port[f"socket:[{inode}]"] = int(remote.split(":")[1], 16)
    owners = {}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target in inode_port:
                owners[inode_port[target]] = pid
    return owners


QUERIES = [f"dragons and a quest {i}" for i in range(8)]


SEARCHES = ["/api/search?" + urlencode({"q": query}) for query in QUERIES]


def open_get(port: int, path: str) -> tuple[http.client.HTTPConnection, dict[str, Any]]:
    """A GET on a new keep-alive connection, left open so its server end can be found."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path)
    response = conn.getresponse()
    assert response.status == 200
    return conn, json.loads(response.read())


@contextmanager
def two_workers(data_dir: Path, env: dict[str, str]) -> Iterator[tuple[int, set[int], list[str]]]:
    """`serve --workers 2` on `data_dir`: its port, its two worker pids, and (after) its output."""
    port = free_port()
    env = {**os.environ, **env, "VIBESHELF_DATA_DIR": str(data_dir),
           "VIBESHELF_SERVE__QUERY_LOG": "false",
           "GUNICORN_CMD_ARGS": "--keep-alive 60"}  # idle connections stay open to be looked up
    proc = subprocess.Popen(
        [sys.executable, "-m", "vibeshelf", "serve", "--workers", "2", "--host", "127.0.0.1",
         "--port", str(port), "--no-auth"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        wait_ok(f"http://127.0.0.1:{port}/health", proc)
        workers = children(proc.pid, running="gunicorn")  # not the one saying where it serves
        assert len(workers) == 2
        yield port, workers, output
    finally:
        output.append(stop_group(proc))


def on_each_worker(
    port: int, workers: set[int], then: Callable[[http.client.HTTPConnection], Any],
    paths: list[str] = SEARCHES,
) -> dict[int, list[tuple[dict[str, Any], Any]]]:
    """GETs of `paths` (searches) on new connections until both workers have answered some; per
    worker, each body and what `then` did next on the same connection (the same worker answers)."""
    served: dict[int, list[tuple[dict[str, Any], Any]]] = {}
    # The kernel picks the worker that accepts; a worker still starting accepts nothing yet.
    deadline = time.monotonic() + 90
    while len(served) < 2 and time.monotonic() < deadline:
        with ThreadPoolExecutor(8) as pool:
            opened = list(pool.map(open_get, [port] * len(paths), paths))
        owners = connection_owners(port, workers)
        for conn, body in opened:
            served.setdefault(owners[conn.sock.getsockname()[1]], []).append((body, then(conn)))
            conn.close()
    return served


def get_text(conn: http.client.HTTPConnection, path: str) -> str:
    conn.request("GET", path)
    return conn.getresponse().read().decode()


def get_json(conn: http.client.HTTPConnection, path: str) -> Any:
    return json.loads(get_text(conn, path))


def test_two_workers_serve_one_redis_index(
    sample_data_dir: Path, redisearch_url: str, tmp_path: Path
) -> None:
    """`serve --workers 2` on a Redis index: searches are answered by both workers, from Redis."""
    data_dir = tmp_path / "data"  # the sample without its embedded index: it must not be used
    shutil.copytree(sample_data_dir, data_dir, ignore=shutil.ignore_patterns("index"))
    store = {"VIBESHELF_STORE__URL": f"{redisearch_url}?prefix=w{uuid.uuid4().hex[:8]}"}
    run_cli("index", data_dir=data_dir, env=store)
    with two_workers(data_dir, store) as (port, workers, output):
        served = on_each_worker(port, workers, lambda conn: get_json(conn, "/health")["index"])
    out = output[0]
    assert set(served) == workers, out
    indexes = {(i["backend"], i["build_id"], i["count"]) for bodies in served.values() for _, i in bodies}
    ((backend, _, count),) = indexes  # every worker serves the one build in Redis
    assert backend == "redis" and count >= 2900
    assert all(len(body["results"]) == 10 for bodies in served.values() for body, _ in bodies)
    assert out.count("Booting worker with pid") == 2 and "Traceback" not in out, out


def searches_counted(metrics: str) -> float:
    """The 200 answers to /api/search that a /metrics body counts."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics)
        if family.name == "vibeshelf_http_requests"
        for sample in family.samples
        if sample.name.endswith("_total")
        and sample.labels == {"method": "GET", "route": "/api/search", "code": "200"}
    )


def test_metrics_count_the_requests_of_every_worker(sample_data_dir: Path, tmp_path: Path) -> None:
    """Whichever worker answers the scrape, /metrics counts the searches both workers served."""
    data_dir = tmp_path / "data"
    shutil.copytree(sample_data_dir, data_dir, ignore=shutil.ignore_patterns("logs"))
    with two_workers(data_dir, {}) as (port, workers, output):
        served = on_each_worker(port, workers, lambda conn: None)
        scraped = on_each_worker(port, workers, lambda conn: searches_counted(get_text(conn, "/metrics")),
                                 paths=["/health"] * 8)
    assert set(served) == set(scraped) == workers, output[0]
    searches = sum(len(bodies) for bodies in served.values())
    assert {count for bodies in scraped.values() for _, count in bodies} == {searches}
