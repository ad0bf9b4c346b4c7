"""What the benchmark scripts share: loopback ports, server readiness, client threads, percentiles."""

from __future__ import annotations

import http.client
import os
import platform
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

# The x86 instruction-set extensions that decide int8 inference speed, best first.
SIMD_LEVELS = ("amx_int8", "avx512_vnni", "avx_vnni", "avx512f", "avx2")


def machine() -> str:
    """One line naming the CPU, its best int8-relevant SIMD level, cores, load and Python."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    model = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "")
    flags = set(next((ln.split(":", 1)[1].split() for ln in lines if ln.startswith("flags")), []))
    simd = next((level for level in SIMD_LEVELS if level in flags), "none of " + "/".join(SIMD_LEVELS))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{model or platform.processor() or platform.machine()} ({platform.machine()}, {simd}), "
            f"{os.cpu_count()} cores, load average {load}, Python {platform.python_version()}")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(proc: subprocess.Popen[bytes], port: int, timeout_s: float = 120.0) -> None:
    """Return once GET /health on 127.0.0.1:`port` answers 200; exit if the server dies or stalls."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before it was ready")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"server on port {port} did not become ready in {timeout_s:.0f}s")


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank `q` quantile (0..1) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_clients(worker: Callable[[int], None], clients: int) -> float:
    """Run worker(0) .. worker(clients - 1) in threads at once; return the wall time in seconds."""
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started
