"""The import-linter contracts in pyproject.toml hold: features import only downward."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO

LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def test_every_import_contract_is_kept() -> None:
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    result = subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache", "pyproject.toml"],
        check=False,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
