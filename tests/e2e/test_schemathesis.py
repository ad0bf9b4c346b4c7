"""End to end: a seeded schemathesis run over every route of a real server's /openapi.json.

No server error, no response outside its documented schema, content type or headers, and no
status that the route does not document.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

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
        "--generation-database", "none", "--workers", "2", "--request-timeout", "30",
        "--header", f"Authorization: Bearer {SERVER_API_KEY}", "--no-color",
    ]
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )


def test_every_route_conforms_to_its_documentation(sample_data_dir: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"  # the run records events and queries: not in the shared sample
    shutil.copytree(sample_data_dir, data_dir)
    # Warnings and errors only: the server's output pipe is read once it stops, and a thousand
    # access-log lines would fill it and block the server.
    server = Server(data_dir, free_port(), env={"VIBESHELF_LOG_LEVEL": "WARNING"})
    try:
        server.wait_ready()
        paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
        operations = sum(len(methods) for methods in paths.values())
        run = schemathesis(server.url, tmp_path)
    finally:
        log = server.stop()
    report = run.stdout[-20_000:] + run.stderr[-5_000:]
    assert run.returncode == 0, report
    assert f"Selected: {operations}/{operations}" in run.stdout and f"Tested: {operations}" in run.stdout
    generated = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert generated and generated[1] == generated[2] and int(generated[1]) > 10 * operations, report
    assert "Traceback" not in log, log[-5_000:]
