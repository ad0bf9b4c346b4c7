"""Recommendation benchmark: p50/p95 latency of POST /api/recommend at 1 and 10 clients on
127.0.0.1, ALS beside the two-stage pipeline, over HTTP and in process.

Builds (or reuses) a data dir with the `vibeshelf` CLI: the catalog, the interactions and a model
trained with the configured settings, and for the full server (`--server vibeshelf`) also the
book embeddings and search indexes `vibeshelf serve` starts with. Then it starts a real server
(2 workers by default, one per core) and client processes (1, then 10) that each send a bounded
number of requests over one keep-alive connection: known readers, liked-book lists (fold-in) and
unknown readers (popular), in fixed proportions. With a ranker in the data dir (`vibeshelf train
ranker`) the same requests run through each pipeline (`"pipeline": "als"`, then `"two-stage"`, which
ranks the popular candidates for an unknown reader too) at each client count, and once more in
this process, one at a time. Prints machine, data and settings, each pipeline's p50, p95
and throughput, the two-stage / ALS ratios, each run's p50 against the 10 ms target, and the
two-stage pipeline's in-process p50 for known readers against its 15 ms target.

    python bench/recommend.py                     # build in a temp dir, 1 and 10 clients x 300
    python bench/recommend.py --data-dir /tmp/vs --clients 10 --pipeline two-stage  # one cell
    python bench/recommend.py --workers 1         # one server process
    python bench/recommend.py --data-dir /tmp/vs  # build there once, reuse on later runs
    python bench/recommend.py --server vibeshelf  # the full `python -m vibeshelf serve`
    python bench/recommend.py --sample --server vibeshelf --requests 50  # bundled sample, quick
    python bench/recommend.py --cache "" --cache memory://  # without, then with the answer cache
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import multiprocessing.pool
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import free_port, machine, percentile, wait_healthy
from prometheus_client.parser import text_string_to_metric_families
from recommend_pipelines import PIPELINES, Cell, compare, in_process, ranker_line

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SERVERS = {
    "recommend-app": [
        "-m",
        "uvicorn",
        "--factory",
        "vibeshelf.serve.recommend_app:create_recommend_app",
    ],
    "vibeshelf": ["-m", "vibeshelf", "serve"],
}
MIX = (("known", 0.8), ("liked", 0.1), ("unknown", 0.1))
TARGET_P50_MS = 10.0
SEARCH_STEPS = (("embed", ("embed",)), ("index", ("index",)))


def cli(data_dir: Path, *args: str) -> float:
    """Run a `vibeshelf` command on `data_dir`; return its wall time in seconds."""
    env = {**os.environ, "VIBESHELF_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vibeshelf", *args], env=env, cwd=REPO, check=True)
    return time.perf_counter() - started


def recs_steps(sample: bool) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The CLI steps to a trained recommender: on the bundled sample, or on ../shared/data."""
    source = ("--source", str(SHARED_DATA))
    return (
        ("catalog", ("ingest", "sample") if sample else ("ingest", "goodbooks", *source)),
        (
            "interactions",
            ("ingest", "interactions", "sample")
            if sample
            else ("ingest", "interactions", "goodbooks", *source),
        ),
        ("train", ("train", "recs", "--no-eval")),
    )


def build(data_dir: Path, sample: bool, search: bool) -> dict[str, float]:
    """Run the build steps `data_dir` still lacks (search's only when `search`); step timings."""
    from vibeshelf.recommend.artifacts import current_version, recs_root
    from vibeshelf.settings import Settings

    settings = Settings(data_dir=data_dir)
    steps = () if current_version(recs_root(settings)) else recs_steps(sample)
    if search and not (settings.index_dir / "CURRENT").is_file():
        steps = (*steps, *SEARCH_STEPS)
    return {f"{name}_s": cli(data_dir, *args) for name, args in steps}


def bodies(data_dir: Path, n: int, seed: int = 1) -> list[tuple[str, bytes]]:
    """n request bodies in the MIX proportions, shuffled deterministically."""
    from vibeshelf.recommend.artifacts import load_model, recs_root
    from vibeshelf.settings import Settings

    model = load_model(recs_root(Settings(data_dir=data_dir)))
    rng = random.Random(seed)
    warm = [model.items.ids[i] for i in range(len(model.items)) if model.counts[i] > 0]
    out = []
    for kind, share in MIX:
        for _ in range(round(n * share)):
            if kind == "known":
                body = {"user_id": rng.choice(model.users), "cutoff": 10}
            elif kind == "liked":
                body = {"liked": rng.sample(warm, 3), "cutoff": 10}
            else:
                body = {"user_id": f"stranger-{rng.randrange(10**9)}", "cutoff": 10}
            out.append((kind, json.dumps(body).encode()))
    rng.shuffle(out)
    return out


def start_server(
    kind: str, data_dir: Path, port: int, workers: int, cache_url: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "VIBESHELF_RECOMMEND__CACHE_URL": cache_url,
        # Every worker's counts in /metrics (`vibeshelf serve` sets this itself).
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="vibeshelf-recbench-metrics-"),
        "VIBESHELF_DATA_DIR": str(data_dir),
        "VIBESHELF_LOG_LEVEL": "WARNING",
        "VIBESHELF_SERVE__QUERY_LOG": "false",
        "VIBESHELF_AUTH__ENABLED": "false",  # on loopback: readers' recommendations without a key
    }
    args = [
        sys.executable, *SERVERS[kind], "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers),
    ]
    if kind == "recommend-app":
        args += ["--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
    wait_healthy(proc, port)
    return proc


def with_pipeline(work: list[tuple[str, bytes]], pipeline: str) -> list[tuple[str, bytes]]:
    """The same requests, each naming `pipeline`."""
    return [(kind, json.dumps({**json.loads(body), "pipeline": pipeline}).encode())
            for kind, body in work]


def client(port: int, share: list[tuple[str, bytes]]) -> list[tuple[str, float, bool]]:
    """One client: `share` in order over one keep-alive connection; (kind, ms, ok) per request."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    out = []
    for kind, body in share:
        started = time.perf_counter()
        conn.request("POST", "/api/recommend", body, headers)
        response = conn.getresponse()
        response.read()
        out.append((kind, (time.perf_counter() - started) * 1000, response.status == 200))
    conn.close()
    return out


def load(
    pool: multiprocessing.pool.Pool, port: int, work: list[tuple[str, bytes]], clients: int
) -> tuple[dict[str, list[float]], int, float]:
    """Each client process sends its share of `work`; latencies by kind, errors, seconds.

    Clients are processes, not threads: threads in one interpreter queue on its lock, which adds
    client-side waiting to the latencies the server is measured by.
    """
    shares = [(port, work[k::clients]) for k in range(clients)]
    started = time.perf_counter()
    results = pool.starmap(client, shares)
    elapsed = time.perf_counter() - started
    latencies: dict[str, list[float]] = {kind: [] for kind, _ in MIX}
    errors = 0
    for kind, ms, ok in (row for result in results for row in result):
        latencies[kind].append(ms)
        errors += not ok
    return latencies, errors, elapsed


def cache_hit_rate(port: int) -> float | None:
    """Hits / lookups of the recommendation cache, summed over the workers, from /metrics."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics")
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    if response.status != 200:
        return None
    counts = {"hit": 0.0, "miss": 0.0}
    for family in text_string_to_metric_families(text):
        if family.name == "vibeshelf_recommend_cache_lookups":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    counts[sample.labels["result"]] += sample.value
    lookups = counts["hit"] + counts["miss"]
    return counts["hit"] / lookups if lookups else None


def run(
    args: argparse.Namespace, data_dir: Path, work: list[tuple[str, bytes]],
    warmup: list[tuple[str, bytes]], cache_url: str,
) -> tuple[list[Cell], float | None]:
    """One server with `cache_url`: per pipeline, warmed up, then loaded at each client count
    (the first `requests` x clients of `work`); the cells and the hit rate over all of them."""
    port = args.port or free_port()
    server = start_server(args.server, data_dir, port, args.workers, cache_url)
    cells = []
    try:
        with multiprocessing.Pool(max(args.clients)) as pool:
            for pipeline in args.pipeline:
                load(pool, port, with_pipeline(warmup, pipeline), max(args.clients))
                for clients in args.clients:
                    share = with_pipeline(work[: clients * args.requests], pipeline)
                    cells.append(Cell(pipeline, clients, "HTTP", *load(pool, port, share, clients)))
        return cells, cache_hit_rate(port)
    finally:
        server.terminate()
        server.wait(timeout=15)


def search_line(data_dir: Path) -> str:
    """The embedding model and vector index the full server searches with."""
    from vibeshelf.settings import Settings

    index_dir = Settings(data_dir=data_dir).index_dir
    build_id = (index_dir / "CURRENT").read_text().strip()
    manifest = json.loads((index_dir / "builds" / build_id / "manifest.json").read_text())
    params = manifest["params"]
    return (
        f"search: {manifest['count']:,} books embedded with {manifest['model_version']}, "
        f"HNSW M={params['m']} ef_construction={params['ef_construction']} "
        f"ef_search={params['ef_search']}, query log off"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data-dir", type=Path, help="build here once and reuse (default: a temp dir)"
    )
    parser.add_argument(
        "--sample", action="store_true", help="build from the bundled sample, not ../shared/data"
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10],
                        help="client counts to load each pipeline at (default: 1 10)")
    parser.add_argument("--requests", type=int, default=300, help="requests per client")
    parser.add_argument("--server", choices=sorted(SERVERS), default="recommend-app")
    parser.add_argument(
        "--pipeline", action="append", choices=PIPELINES, default=None,
        help="repeat to compare (default: als, and two-stage when the data dir has a ranker)",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="server worker processes (default 2: one per core)"
    )
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument(
        "--cache", action="append", default=None, metavar="URL",
        help='recommend.cache_url of a run: "" (off, the default), memory:// or redis://...; '
        "repeat to compare runs, each on a fresh server",
    )
    args = parser.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="vibeshelf-recbench-"))
    full_server = args.server == "vibeshelf"
    timings = build(data_dir, args.sample, search=full_server)
    ranker = ranker_line(data_dir)
    if args.pipeline is None:
        args.pipeline = list(PIPELINES) if ranker else ["als"]
    if "two-stage" in args.pipeline and not ranker:
        parser.error(f"two-stage needs a ranker in {data_dir}: run `vibeshelf train ranker` there")
    work = bodies(data_dir, max(args.clients) * args.requests)
    warmup = bodies(data_dir, 200, seed=2)
    runs = {url: run(args, data_dir, work, warmup, url) for url in args.cache or [""]}
    local = in_process(data_dir, args.pipeline, work[: args.requests], warmup)

    from vibeshelf.recommend.artifacts import current_version, load_metadata, recs_root
    from vibeshelf.settings import Settings

    settings = Settings(data_dir=data_dir)
    blas = settings.serve.blas_threads
    root = recs_root(settings)
    meta = load_metadata(root, current_version(root) or "")
    print(f"# vibeshelf recommendation benchmark — {machine()}")
    plural = "s" if args.workers > 1 else ""
    print(
        f"server: {args.server} ({args.workers} worker{plural}, {blas} BLAS thread each), "
        f"data dir {data_dir}"
    )
    counts = meta["counts"]
    built = ("bundled sample" if args.sample else "goodbooks-10k") if timings else "reused"
    print(
        f"data: {built} catalog, {meta['source']} "
        f"({counts['users']:,} users, {counts['items']:,} items, "
        f"{counts['interactions']:,} interactions); model {meta['version']}"
    )
    print(f"settings: {json.dumps(meta['params'], sort_keys=True)}, seed {meta['seed']}")
    if ranker:
        print(ranker)
    if full_server:
        print(search_line(data_dir))
    if timings:
        print("build: " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
    mix = ", ".join(f"{share:.0%} {kind}" for kind, share in MIX)
    readers = len({body for _, body in work})
    print(
        f"load: {' and '.join(map(str, args.clients))} client processes x {args.requests} requests "
        f"each, keep-alive, cutoff 10 ({mix}; {readers} distinct requests), after {len(warmup)} "
        f"warm-up requests per pipeline; in process: the first {args.requests}, one at a time"
    )
    for url, (cells, hit_rate) in runs.items():
        hits = "n/a" if hit_rate is None else f"{hit_rate:.0%}"
        print(f"\n## cache {url or 'off'!s} (hit rate {hits} over its runs)")
        for cell in cells:
            report(cell)
        print()
        compare([*cells, *local])
    print()
    for cell in local:
        report(cell)


def report(cell: Cell) -> None:
    """One run's line and latency table."""
    latencies, every = cell.latencies, cell.every
    print(
        f"\n{cell.pipeline}, {cell.clients} client{'s' if cell.clients > 1 else ''}, {cell.where}: "
        f"{len(every)} requests in {cell.seconds:.1f}s = {cell.per_second:.0f} req/s, "
        f"{cell.errors} errors"
    )
    print("| requests | share | n | p50 ms | p95 ms | mean ms |")
    print("|---|---|---|---|---|---|")
    for kind, values in [("all", every), *latencies.items()]:
        print(
            f"| {kind} | {len(values) / len(every):.0%} | {len(values)} | "
            f"{percentile(values, 0.5):.2f} | {percentile(values, 0.95):.2f} | "
            f"{statistics.fmean(values):.2f} |"
        )
    p50 = percentile(every, 0.5)
    verdict = "met" if p50 <= TARGET_P50_MS else "NOT met"
    target = f"target p50 <= {TARGET_P50_MS:.0f} ms"
    plural = "s" if cell.clients > 1 else ""
    print(f"p50 {p50:.2f} ms at {cell.clients} client{plural}: {target} {verdict}")


if __name__ == "__main__":
    main()
