"""Serving caps numpy's BLAS thread pool at serve.blas_threads."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json
from threadpoolctl import threadpool_info
from vibeshelf.serve.runtime import limit_blas_threads
before = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
limit_blas_threads(1)
after = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
print(json.dumps({"before": before, "after": after}))
"""


def test_limit_blas_threads_caps_every_blas_pool() -> None:
    env = {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2", "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    pools = json.loads(done.stdout)
    assert pools["before"] and max(pools["before"]) == 2
    assert pools["after"] == [1] * len(pools["before"])
