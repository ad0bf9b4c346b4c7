"""Recommendation benchmark: p50/p95 latency of POST /api/recommend at 10 clients on 127.0.0.1.

Builds (or reuses) a data dir with the goodbooks catalog, the Book-Crossing interactions and a
model trained with the configured settings, starts a real server, then sends a bounded number of
requests per client over keep-alive connections: known readers (ALS), liked-book lists
(fold-in) and unknown readers (popular), in fixed proportions. Prints machine, data and settings.

    python bench/recommend.py                          # build in a temp dir, 10 clients x 300 requests
    python bench/recommend.py --data-dir /tmp/vs       # build there once, reuse on later runs
    python bench/recommend.py --server vibeshelf       # `python -m vibeshelf serve` (router wired in)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchlib import free_port, percentile, wait_healthy

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SERVERS = {
    "recommend-app": [
        "-m",
        "uvicorn",
        "--factory",
        "vibeshelf.serve.recommend_api:create_recommend_app",
    ],
    "vibeshelf": ["-m", "vibeshelf", "serve"],
}
MIX = (("als", 0.8), ("fold-in", 0.1), ("popular", 0.1))


def build(data_dir: Path) -> dict[str, float]:
    """Catalog, interactions and a model in `data_dir`, unless already there; returns step timings."""
    from vibeshelf.catalog.goodbooks import ingest_goodbooks
    from vibeshelf.recommend.artifacts import current_version
    from vibeshelf.recommend.interactions import ingest_book_crossing
    from vibeshelf.recommend.storage.factory import open_interactions
    from vibeshelf.recommend.train import recs_root, train_recs
    from vibeshelf.settings import Settings

    settings = Settings(data_dir=data_dir)
    rec = settings.recommend
    timings: dict[str, float] = {}
    if current_version(recs_root(settings)):
        return timings
    started = time.perf_counter()
    ingest_goodbooks(SHARED_DATA, settings.books_path)
    timings["catalog_s"] = time.perf_counter() - started
    started = time.perf_counter()
    store = open_interactions(rec.events_url, data_dir)
    try:
        ingest_book_crossing(SHARED_DATA, store, settings.books_path)
    finally:
        store.close()
    timings["interactions_s"] = time.perf_counter() - started
    started = time.perf_counter()
    train_recs(settings, rec, evaluate=False)
    timings["train_s"] = time.perf_counter() - started
    return timings


def bodies(data_dir: Path, n: int, seed: int = 1) -> list[tuple[str, bytes]]:
    """n request bodies in the MIX proportions, shuffled deterministically."""
    from vibeshelf.recommend.artifacts import load_model
    from vibeshelf.recommend.train import recs_root
    from vibeshelf.settings import Settings

    model = load_model(recs_root(Settings(data_dir=data_dir)))
    rng = random.Random(seed)
    warm = [model.items.ids[i] for i in range(len(model.items)) if model.counts[i] > 0]
    out = []
    for kind, share in MIX:
        for _ in range(round(n * share)):
            if kind == "als":
                body = {"user_id": rng.choice(model.users), "cutoff": 10}
            elif kind == "fold-in":
                body = {"liked": rng.sample(warm, 3), "cutoff": 10}
            else:
                body = {"user_id": f"stranger-{rng.randrange(10**9)}", "cutoff": 10}
            out.append((kind, json.dumps(body).encode()))
    rng.shuffle(out)
    return out


def start_server(kind: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VIBESHELF_DATA_DIR": str(data_dir),
        "VIBESHELF_LOG_LEVEL": "WARNING",
        "VIBESHELF_SERVE__QUERY_LOG": "false",
    }
    args = [sys.executable, *SERVERS[kind], "--host", "127.0.0.1", "--port", str(port)]
    if kind == "recommend-app":
        args += ["--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
    wait_healthy(proc, port)
    return proc


def load(
    port: int, work: list[tuple[str, bytes]], clients: int
) -> tuple[dict[str, list[float]], int, float]:
    """Each client sends its share of `work` on one keep-alive connection; latencies by kind (ms)."""
    latencies: dict[str, list[float]] = {kind: [] for kind, _ in MIX}
    errors = [0]
    lock = threading.Lock()
    headers = {"Content-Type": "application/json"}

    def client(share: list[tuple[str, bytes]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[tuple[str, float]] = []
        failed = 0
        for kind, body in share:
            started = time.perf_counter()
            conn.request("POST", "/api/recommend", body, headers)
            response = conn.getresponse()
            response.read()
            mine.append((kind, (time.perf_counter() - started) * 1000))
            failed += response.status != 200
        conn.close()
        with lock:
            for kind, ms in mine:
                latencies[kind].append(ms)
            errors[0] += failed

    threads = [threading.Thread(target=client, args=(work[k::clients],)) for k in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", type=Path, help="build here once and reuse (default: a temp dir)"
    )
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--requests", type=int, default=300, help="requests per client")
    parser.add_argument("--server", choices=sorted(SERVERS), default="recommend-app")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="vibeshelf-recbench-"))
    timings = build(data_dir)
    work = bodies(data_dir, args.clients * args.requests)
    warmup = bodies(data_dir, 200, seed=2)
    port = args.port or free_port()
    server = start_server(args.server, data_dir, port)
    try:
        load(port, warmup, 2)
        latencies, errors, elapsed = load(port, work, args.clients)
    finally:
        server.terminate()
        server.wait(timeout=15)

    from vibeshelf.recommend.artifacts import load_metadata
    from vibeshelf.recommend.train import recs_root
    from vibeshelf.settings import Settings

    root = recs_root(Settings(data_dir=data_dir))
    meta = load_metadata(root, (root / "CURRENT").read_text().strip())
    every = [ms for values in latencies.values() for ms in values]
    print(
        f"# vibeshelf recommendation benchmark — {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, server: {args.server} (1 worker)"
    )
    counts = meta["counts"]
    print(
        f"data: {meta['source']} ({counts['users']:,} users, {counts['items']:,} items, "
        f"{counts['interactions']:,} interactions); model {meta['version']}"
    )
    print(f"settings: {json.dumps(meta['params'], sort_keys=True)}, seed {meta['seed']}")
    if timings:
        print("build: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    print(
        f"load: {args.clients} clients x {args.requests} requests, keep-alive, cutoff 10; "
        f"{len(every)} requests in {elapsed:.1f}s = {len(every) / elapsed:.0f} req/s, {errors} errors"
    )
    print("| requests | share | n | p50 ms | p95 ms | mean ms |")
    print("|---|---|---|---|---|---|")
    for kind, values in [("all", every), *latencies.items()]:
        print(
            f"| {kind} | {len(values) / len(every):.0%} | {len(values)} | {percentile(values, 0.5):.2f} | "
            f"{percentile(values, 0.95):.2f} | {statistics.fmean(values):.2f} |"
        )


if __name__ == "__main__":
    main()
