"""End to end: a seeded schemathesis run over every route of a real server's /openapi.json.

No server error, no response outside its documented schema, content type or headers, and no
status that the route does not document; and a search at every bound still reaches the app.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import SERVER_API_KEY, Server, free_port

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "content_type_conformance",
    "response_headers_conformance",
]
SEED = 20261204
MAX_EXAMPLES = 30  # per operation and phase: the run stays near a minute on two cores
RUN_TIMEOUT_S = 300


def schemathesis(url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json",
        "--checks", ",".join(CHECKS), "--seed", str(SEED), "--max-examples", str(MAX_EXAMPLES),
        # One worker: with two, its threads parse source concurrently, which Python 3.11's ast
        # module is not safe for ("AST constructor recursion depth mismatch").
        "--generation-database", "none", "--workers", "1", "--request-timeout", "30",
        "--header", f"Authorization: Bearer {SERVER_API_KEY}", "--no-color",
    ]
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )


@pytest.fixture(scope="module")
def fuzzed_server(sample_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server on a copy of the sample (the run records events and queries), logging warnings
    and errors only: a thousand access-log lines of fuzzed URLs are noise."""
    data_dir = tmp_path_factory.mktemp("fuzzed") / "data"
    shutil.copytree(sample_data_dir, data_dir)
    server = Server(data_dir, free_port(), env={"VIBESHELF_LOG_LEVEL": "WARNING"})
    try:
        server.wait_ready()
        yield server
    finally:
        log = server.stop()
        assert "Traceback" not in log, log[-5_000:]


def test_a_search_at_every_bound_reaches_the_app(fuzzed_server: Server) -> None:
    """The longest query and shelves in 4-byte characters (12 bytes each, percent-encoded) are
    answered by the app, not refused in plain text by the HTTP server's 64 KiB request line."""
    wide = "\N{MATHEMATICAL FRAKTUR CAPITAL B}"
    params = {"q": wide * 3000, "shelf": [wide * 64] * 20, "language": wide * 35, "mode": "lexical"}
    url = f"{fuzzed_server.url}/api/search"
    assert httpx.get(url, params=params, timeout=30).status_code == 200
    too_long = httpx.get(url, params={**params, "q": wide * 3001}, timeout=30)
    assert too_long.status_code == 422 and too_long.json()["description"].startswith("q:")


def test_every_route_conforms_to_its_documentation(fuzzed_server: Server, tmp_path: Path) -> None:
    paths = httpx.get(f"{fuzzed_server.url}/openapi.json").json()["paths"]
    operations = sum(len(methods) for methods in paths.values())
    run = schemathesis(fuzzed_server.url, tmp_path)
    report = run.stdout[-20_000:] + run.stderr[-5_000:]
    assert run.returncode == 0, report
    assert f"Selected: {operations}/{operations}" in run.stdout and f"Tested: {operations}" in run.stdout
    generated = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert generated and generated[1] == generated[2] and int(generated[1]) > 10 * operations, report
