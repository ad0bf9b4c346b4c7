"""`vibeshelf serve` and `demo` refuse, with exit code 2 and one clear line, to serve /v1 or the
reader APIs unsafely."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO, VIBESHELF


def serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return vibeshelf(tmp_path, "serve", "--port", "1", *args, **env)


def vibeshelf(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VIBESHELF_")}
    return subprocess.run(
        [*VIBESHELF, *args],
        env={**clean, "VIBESHELF_DATA_DIR": str(tmp_path), **env},
        capture_output=True, text=True, timeout=60, cwd=REPO, check=False,
    )


@pytest.mark.parametrize("apis", ["encode", "all", "search"])
def test_auth_on_without_credentials_refuses_to_start(tmp_path: Path, apis: str) -> None:
    result = serve(tmp_path, "--only", apis)
    assert result.returncode == 2, result.stderr
    assert "no credentials are configured" in result.stderr
    assert "VIBESHELF_AUTH__API_KEYS" in result.stderr and "--no-auth" in result.stderr


def test_no_auth_refuses_a_public_host(tmp_path: Path) -> None:
    result = serve(tmp_path, "--only", "encode", "--no-auth", "--host", "0.0.0.0")
    assert result.returncode == 2
    assert "--allow-public-no-auth" in result.stderr


def test_a_rejected_key_setting_exits_2_without_echoing_the_key(tmp_path: Path) -> None:
    result = serve(tmp_path, "--only", "encode", VIBESHELF_AUTH__API_KEYS='{"a": {"key": "weak-key-42"}}')
    assert result.returncode == 2
    assert "at least 16 characters" in result.stderr and "weak-key-42" not in result.stderr


def test_the_demo_refuses_a_public_host_without_credentials(tmp_path: Path) -> None:
    result = vibeshelf(tmp_path, "demo", "--host", "0.0.0.0", "--port", "1")
    assert result.returncode == 2, result.stderr
    assert "only on a loopback host" in result.stderr
    assert "VIBESHELF_AUTH__API_KEYS" in result.stderr
    assert not (tmp_path / "catalog").exists()  # refused before building anything
