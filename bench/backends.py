"""Vector backend benchmark: hnsw, Redis (RediSearch) and PostgreSQL (pgvector) on the same vectors.

For each data set (the catalog's real embeddings, then N synthetic 384-d unit vectors), each
backend and each vector dtype it can keep (hnsw: float32; Redis and PostgreSQL: float32 and
float16), one run prints: build time, size (HNSW files on disk, Redis memory growth, PostgreSQL
table + indexes), and for each search beam ef_search the KNN queries/s at 1 and 2 client threads
(k=10, no filter) and recall@10 against exact numpy search. Same HNSW graph parameters everywhere
(the settings' defaults unless given). The synthetic vectors are the catalog's real ones jittered
by noise, so they keep its structure.

    python bench/backends.py                           # starts loopback Valkey+RediSearch and PostgreSQL
    python bench/backends.py --synthetic 1000000 --backends hnsw \\
        --ef-search 32,64,128,256                      # 1M vectors (~1.5 GiB float32), hnsw only
    python bench/backends.py --dtypes float16 --ef-search 64,128   # half-size vectors on the servers
    python bench/backends.py --redis redis://127.0.0.1:6379/0 \\
        --postgres 'postgresql://me@127.0.0.1:5432/vibeshelf'   # servers of your own
    python bench/backends.py --sample --data-dir /tmp/vs     # bundled sample, reuse the data dir
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, get_args

import numpy as np
import psycopg
import redis
from benchlib import machine, run_clients
from search import queries

from vibeshelf.config.core import VectorDtype
from vibeshelf.index.base import IndexManifest, Records, VectorStore
from vibeshelf.index.hnsw import HnswParams, HnswStore
from vibeshelf.index.pgvector_store import PgVectorStore
from vibeshelf.index.redis_store import RedisStore

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
DIM = 384
K = 10
BACKENDS = ("hnsw", "redis", "pgvector")
DTYPES: tuple[VectorDtype, ...] = get_args(VectorDtype)


def catalog_set(data_dir: Path, sample: bool) -> tuple[str, Records, np.ndarray]:
    """Records and encoded vibe queries for the catalog (built into `data_dir` unless there)."""
    from vibeshelf.catalog.books import BookCatalog
    from vibeshelf.embed.encoder import load_encoder
    from vibeshelf.embed.vectors import load_embeddings
    from vibeshelf.settings import Settings

    settings = Settings(data_dir=data_dir)
    env = {**os.environ, "VIBESHELF_DATA_DIR": str(data_dir)}
    for step in (["ingest", "sample" if sample else "goodbooks"], ["embed"]):
        if step[0] == "ingest" and settings.books_path.is_file():
            continue
        subprocess.run([sys.executable, "-m", "vibeshelf", *step], env=env, check=True)
    catalog = BookCatalog.load(settings.books_path)
    embeddings = load_embeddings(settings.embeddings_dir, settings.model.name)
    books = [catalog.get(i) for i in embeddings.ids]
    keep = [i for i, book in enumerate(books) if book is not None]
    records = Records(
        [embeddings.ids[i] for i in keep],
        embeddings.vectors[keep],
        [books[i].index_fields() for i in keep],  # type: ignore[union-attr]
    )
    encoded = load_encoder(settings.model, settings.models_dir).encode(queries(200))
    name = "bundled sample" if sample else "goodbooks-10k"
    return f"{name} ({len(records)} books, real embeddings)", records, encoded


def synthetic_set(
    n: int, base: np.ndarray, noise: float = 0.5, seed: int = 7
) -> tuple[str, Records, np.ndarray]:
    """n unit vectors, each a random catalog vector plus Gaussian noise of norm ~`noise`, and 200
    queries drawn the same way: the catalog's structure at any size (i.i.d. random vectors are a
    worst case that no graph index is tuned for)."""
    rng = np.random.default_rng(seed)

    def draw(count: int) -> np.ndarray:
        jitter = rng.standard_normal((count, DIM), dtype=np.float32) * (noise / np.sqrt(DIM))
        return unit(base[rng.integers(len(base), size=count)] + jitter)

    records = Records(
        [f"s{i}" for i in range(n)], draw(n), [{"year": 1900 + i % 120} for i in range(n)]
    )
    return f"synthetic ({n:,} x {DIM} unit vectors around the catalog's)", records, draw(200)


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def exact_top(records: Records, queries_: np.ndarray) -> list[set[str]]:
    """Exact top-K ids per query by numpy brute force, in chunks."""
    out = []
    for start in range(0, len(queries_), 50):
        sims = queries_[start : start + 50] @ records.vectors.T
        top = np.argpartition(-sims, K, axis=1)[:, :K]
        out += [{records.ids[j] for j in row} for row in top]
    return out


def throughput(store: VectorStore, queries_: np.ndarray, clients: int, seconds: float) -> float:
    """KNN calls per second from `clients` threads over `seconds`."""
    done = [0] * clients
    deadline = time.perf_counter() + seconds

    def worker(slot: int) -> None:
        i = slot
        while time.perf_counter() < deadline:
            store.knn(queries_[i % len(queries_)], K)
            i += clients
            done[slot] += 1

    elapsed = run_clients(worker, clients)
    return sum(done) / elapsed


@dataclass(frozen=True)
class Backend:
    """How to open one backend's store (on the same data each time) and read its size in bytes."""

    name: str
    open: Callable[[HnswParams, VectorDtype], VectorStore]
    size: Callable[[], int]
    dtypes: tuple[VectorDtype, ...] = DTYPES


@contextmanager
def opened(backend: Backend, params: HnswParams, dtype: VectorDtype) -> Iterator[VectorStore]:
    store = backend.open(params, dtype)
    try:
        yield store
    finally:
        if isinstance(store, PgVectorStore):
            store.close()


def settled(size: Callable[[], int], timeout_s: float = 30.0) -> int:
    """The size once it stops changing (Redis frees a dropped index in the background)."""
    last = size()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = size()
        if abs(now - last) < 2**16:
            return now
        last = now
    return last


def build(
    backend: Backend, params: HnswParams, dtype: VectorDtype, records: Records
) -> tuple[float, float]:
    """Build time in seconds and size growth in MiB (the builder is released afterwards)."""
    before = settled(backend.size)
    with opened(backend, params, dtype) as store:
        started = time.perf_counter()
        store.rebuild(records, IndexManifest("bench", "bench", DIM))
        seconds = time.perf_counter() - started
    return seconds, (backend.size() - before) / 2**20


def measure(
    backend: Backend,
    dtype: VectorDtype,
    records: Records,
    queries_: np.ndarray,
    exact: list[set[str]],
    args: argparse.Namespace,
) -> Iterator[dict[str, Any]]:
    """One row per ef_search: the build (made once) and that beam's throughput and recall."""
    params = HnswParams(
        m=args.m, ef_construction=args.ef_construction, ef_search=args.ef_search[0], keep_builds=1
    )
    build_s, size_mb = build(backend, params, dtype, records)
    for ef in args.ef_search:
        with opened(backend, replace(params, ef_search=ef), dtype) as store:
            found = [{h.id for h in store.knn(q, K)} for q in queries_]
            qps = [throughput(store, queries_, clients, args.seconds) for clients in (1, 2)]
        recall = float(np.mean([len(f & e) / K for f, e in zip(found, exact, strict=True)]))
        yield {
            "backend": backend.name,
            "dtype": dtype,
            "ef": ef,
            "build_s": build_s,
            "size_mb": size_mb,
            "qps1": qps[0],
            "qps2": qps[1],
            "recall": recall,
        }
    with opened(backend, params, dtype) as store:
        store.drop()


def backends(args: argparse.Namespace, workdir: Path) -> Iterator[Backend]:
    """The chosen backends, each on an empty store of its own."""
    if "hnsw" in args.backends:
        root = workdir / f"hnsw-{time.monotonic_ns()}"
        yield Backend(
            "hnsw",
            lambda params, _dtype: HnswStore(root, params),
            lambda: sum(p.stat().st_size for p in root.rglob("*") if p.is_file()),
            ("float32",),  # hnswlib keeps float32 only
        )
    if "redis" in args.backends:
        client = redis.Redis.from_url(args.redis)
        yield Backend(
            "redis",
            lambda params, dtype: RedisStore(
                f"{args.redis}?prefix=bench", params, vector_dtype=dtype
            ),
            lambda: int(client.info("memory")["used_memory"]),
        )
    if "pgvector" in args.backends:
        url = f"{args.postgres}{'&' if '?' in args.postgres else '?'}table=bench"

        def pg_size() -> int:
            with psycopg.connect(args.postgres.split("?")[0]) as conn:
                row = conn.execute("SELECT pg_total_relation_size(to_regclass('bench'))").fetchone()
            return int(row[0] or 0)

        yield Backend("pgvector", lambda params, dtype: PgVectorStore(url, params, dtype), pg_size)


@contextmanager
def loopback_servers(args: argparse.Namespace, workdir: Path) -> Iterator[None]:
    """Start Valkey + RediSearch and PostgreSQL on 127.0.0.1 for the backends given no URL."""
    sys.path.insert(0, str(REPO))
    with ExitStack() as stack:
        if args.redis is None and "redis" in args.backends:
            from tests.redis_server import redis_server

            args.redis = stack.enter_context(redis_server(workdir, search=True))
        if args.postgres is None and "pgvector" in args.backends:
            from tests.postgres_server import postgres_server

            url = stack.enter_context(postgres_server())
            # pgvector builds fastest while the graph fits in maintenance_work_mem.
            args.postgres = f"{url}?options=-c%20maintenance_work_mem%3D1GB"
        yield


def choices(allowed: tuple[str, ...]) -> Callable[[str], list[str]]:
    """An argparse type: a comma-separated list of some of `allowed`."""

    def parse(text: str) -> list[str]:
        values = [v.strip() for v in text.split(",") if v.strip()]
        unknown = sorted(set(values) - set(allowed))
        if not values or unknown:
            raise argparse.ArgumentTypeError(f"expected some of {', '.join(allowed)}")
        return values

    return parse


def beams(text: str) -> list[int]:
    """An argparse type: a comma-separated list of ef_search values, each at least 1."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("expected ef_search values like 32,64,128")
    return values


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--synthetic",
        type=int,
        default=100_000,
        metavar="N",
        help="synthetic vectors (0 skips them)",
    )
    parser.add_argument(
        "--sample",
        action="store_true",
        help="the bundled sample instead of the 10k catalog from ../shared/data",
    )
    parser.add_argument("--data-dir", type=Path, help="catalog data dir to build once and reuse")
    parser.add_argument(
        "--backends",
        type=choices(BACKENDS),
        default=list(BACKENDS),
        help=f"comma-separated, of {','.join(BACKENDS)} (default: all)",
    )
    parser.add_argument(
        "--dtypes",
        type=choices(DTYPES),
        default=list(DTYPES),
        help="vector storage, comma-separated (default: both where the backend has them)",
    )
    parser.add_argument(
        "--redis", help="redis:// URL of a server with RediSearch (default: start one)"
    )
    parser.add_argument("--postgres", help="postgresql:// URL with pgvector (default: start one)")
    parser.add_argument("--seconds", type=float, default=5.0, help="load time per client count")
    parser.add_argument("--m", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument(
        "--ef-search",
        type=beams,
        default=[128],
        help="search beams to measure, comma-separated, e.g. 32,64,128,256 (default: 128)",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    sample = args.sample or not (SHARED_DATA / "goodbooks-10k").is_dir()
    workdir = Path(tempfile.mkdtemp(prefix="vibeshelf-bench-backends-"))
    data_sets = [catalog_set(args.data_dir or workdir / "data", sample)]
    if args.synthetic:
        data_sets.append(synthetic_set(args.synthetic, data_sets[0][1].vectors))
    print(f"# vibeshelf vector backends — {machine()}")
    print(
        f"HNSW M={args.m} ef_construction={args.ef_construction} "
        f"ef_search={','.join(map(str, args.ef_search))}, k={K}, {args.seconds:.0f}s per client "
        f"count; recall@{K} vs exact numpy search"
    )
    with loopback_servers(args, workdir):
        for title, records, queries_ in data_sets:
            exact = exact_top(records, queries_)
            raw = records.vectors.nbytes / 2**20
            print(f"\n{title}: vectors alone {raw:.1f} MiB float32, {raw / 2:.1f} MiB float16")
            print(
                "| backend | vectors | ef_search | build s | size MiB | knn/s 1 thread "
                "| knn/s 2 threads | recall@10 |"
            )
            print("|---|---|---|---|---|---|---|---|")
            for backend in backends(args, workdir):
                kept = [d for d in args.dtypes if d in backend.dtypes]
                if not kept:
                    print(f"| {backend.name} | keeps {', '.join(backend.dtypes)} only: skipped |")
                for dtype in kept:
                    for r in measure(backend, dtype, records, queries_, exact, args):
                        print(
                            f"| {r['backend']} | {r['dtype']} | {r['ef']} | {r['build_s']:.1f} | "
                            f"{r['size_mb']:.1f} | {r['qps1']:.0f} | {r['qps2']:.0f} | "
                            f"{r['recall']:.3f} |",
                            flush=True,
                        )


if __name__ == "__main__":
    main()
