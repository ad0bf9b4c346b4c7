"""Training time and peak memory of `vibeshelf train recs` with each engine at multiples of Book-Crossing.

The k x data set holds the catalog-linked Book-Crossing ratings k times: copy j of each reader is a new
reader (id `<user>~j`) with the same books and ratings. Each run is the real CLI in its own process;
peak memory is the largest summed RSS of its process tree (the JVM included) and CPU time the sum
over that tree, both sampled every 0.2 s. On a shared machine CPU seconds compare better than wall.

    python bench/train_scale.py --data-dir /work/recs-full --scales 1 10 50
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import machine

from vibeshelf.recommend.interactions.bookcrossing import BOOK_CROSSING_LINKED
from vibeshelf.recommend.storage.base import SourceInfo
from vibeshelf.recommend.storage.sqlite import SqliteStore

ENGINES = ("local", "spark")


def scaled_rows(rows: pa.Table, copies: int) -> pa.Table:
    """`copies` copies of every reader's history, copy j under the id `<user>~j` (copy 0: as is)."""
    parts = [rows]
    for j in range(1, copies):
        users = pc.binary_join_element_wise(rows.column("user_id"), pa.scalar(str(j)), "~")
        parts.append(rows.set_column(0, "user_id", users))
    return pa.concat_tables(parts)


def build_sources(source_dir: Path, work: Path, scales: list[int]) -> dict[int, int]:
    """A data dir in `work` sharing the catalog of `source_dir`, one source `bx-x<k>` per scale;
    returns each scale's row count."""
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "catalog").exists():
        (work / "catalog").symlink_to((source_dir / "catalog").resolve())
    real = SqliteStore(source_dir / "events.sqlite3")
    try:
        rows = real.read(BOOK_CROSSING_LINKED)
    finally:
        real.close()
    store = SqliteStore(work / "events.sqlite3")
    try:
        for k in scales:
            store.replace_source(SourceInfo(f"bx-x{k}", "catalog"), scaled_rows(rows, k))
        return {k: store.source(f"bx-x{k}").rows for k in scales}
    finally:
        store.close()


def watch(proc: subprocess.Popen[bytes], stop: threading.Event, out: dict[str, float]) -> None:
    """Peak summed RSS and CPU seconds (user + system) of `proc`'s tree, sampled until `stop`."""
    root = psutil.Process(proc.pid)
    peak, cpu = 0, {}
    while not stop.is_set():
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        total = 0
        for p in tree:
            try:
                total += p.memory_info().rss
                times = p.cpu_times()
                cpu[p.pid] = times.user + times.system
            except psutil.NoSuchProcess:
                pass
        peak = max(peak, total)
        time.sleep(0.2)
    out.update(peak=peak, cpu=sum(cpu.values()))


def run(work: Path, source: str, engine: str, args: argparse.Namespace) -> dict[str, object]:
    """One training run: wall and CPU seconds, peak RSS (GiB), exit code and the last output line."""
    cmd = [sys.executable, "-m", "vibeshelf", "train", "recs", "--source", source, "--no-eval",
           "--factors", str(args.factors), "--iterations", str(args.iterations), "--engine", engine]
    if engine == "spark":
        cmd += ["--spark-master", args.spark_master]
    env = {**os.environ, "VIBESHELF_DATA_DIR": str(work),
           "VIBESHELF_RECOMMEND__SPARK__DRIVER_MEMORY": args.driver_memory}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    stop, seen = threading.Event(), {}
    sampler = threading.Thread(target=watch, args=(proc, stop, seen))
    sampler.start()
    output, _ = proc.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    lines = [ln for ln in output.decode(errors="replace").splitlines() if ln.strip()]
    return {"source": source, "engine": engine, "seconds": round(seconds, 1),
            "cpu_seconds": round(seen["cpu"], 1), "peak_gib": round(seen["peak"] / 2**30, 2),
            "rc": proc.returncode,
            "last": lines[-1][-200:] if lines else ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True,
                        help="A data dir with the catalog and the book-crossing-goodbooks source.")
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--spark-master", default="local[*]")
    parser.add_argument("--driver-memory", default="8g")
    parser.add_argument("--work", type=Path, help="Where the scaled data dir goes (default: a temp dir).")
    parser.add_argument("--json", type=Path, help="Also write the rows as JSON here.")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="train-scale-"))
    sizes = build_sources(args.data_dir, work, args.scales)
    print(f"machine: {machine()}")
    print(f"settings: factors {args.factors}, iterations {args.iterations}, --no-eval, "
          f"spark master {args.spark_master}, driver memory {args.driver_memory}")
    rows = []
    print("| scale | interactions | engine | wall s | CPU s | peak RSS GiB | exit |\n"
          "|---|---|---|---|---|---|---|", flush=True)
    for k in args.scales:
        for engine in args.engines:
            row = run(work, f"bx-x{k}", engine, args)
            rows.append({"scale": k, **row})
            print(f"| {k}x | {sizes[k]:,} | {engine} | {row['seconds']} | {row['cpu_seconds']} | "
                  f"{row['peak_gib']} | {row['rc']} |", flush=True)
            if row["rc"]:
                print(f"  {row['last']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
