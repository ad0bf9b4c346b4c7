"""Feature store benchmark: latency of FeatureStoreClient.serving_frame for one reader and N candidates.

Reads a data dir whose features were materialized (`vibeshelf features materialize`), takes known
readers and random catalog books as candidates, each configured source proposing about half of them
with a score and rank, and times `serving_frame` (Feast's get_online_features with the on-demand
view) in this process. Prints machine, data and settings, then p50/p95 wall clock and p50 CPU
time (the CPU figure says more on a machine shared with other work).

    python bench/features.py --data-dir /tmp/vs                 # 500 candidates, 50 requests
    python bench/features.py --data-dir /tmp/vs --candidates 100 --requests 20
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from benchlib import machine, percentile

from vibeshelf.recommend.features.client import FeatureStoreClient
from vibeshelf.recommend.features.definitions import rank_column, score_column
from vibeshelf.recommend.features.repo import FeatureRepo
from vibeshelf.settings import Settings


def request_data(sources: list[str], n: int, rng: np.random.Generator) -> dict[str, list[float | None]]:
    """About half the candidates per source, scored and ranked; the rest not proposed."""
    data: dict[str, list[float | None]] = {}
    for source in sources:
        proposed = rng.random(n) < 0.5
        scores = np.sort(rng.random(n))[::-1]
        data[score_column(source)] = [float(s) if p else None for s, p in zip(scores, proposed)]
        data[rank_column(source)] = [float(i + 1) if p else None for i, p in enumerate(proposed)]
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    settings = Settings(data_dir=args.data_dir)
    repo = FeatureRepo(settings.features_dir, settings.recommend.feature_store)
    client = FeatureStoreClient(repo)
    rng = np.random.default_rng(args.seed)
    readers = pd.read_parquet(repo.sources_dir / "readers.parquet", columns=["user_id"])["user_id"]
    books = pd.read_parquet(repo.sources_dir / "books.parquet", columns=["item_id"])["item_id"]
    print(machine())
    print(f"data: {args.data_dir} ({len(books):,} books, {len(readers):,} readers), online store "
          f"{repo.settings.url}, {len(client.feature_names)} features, sources {repo.settings.sources}")
    timings, cpu = [], []
    for i in range(args.requests + 3):
        user = str(readers.iloc[rng.integers(len(readers))])
        items = [str(b) for b in books.sample(args.candidates, random_state=int(rng.integers(1 << 31)))]
        data = request_data(list(repo.settings.sources), len(items), rng)
        started, started_cpu = time.perf_counter(), time.process_time()
        frame = client.serving_frame(user, items, data)
        if i >= 3:  # the first calls warm Feast's registry cache
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        assert len(frame) == len(items)
    print(f"serving_frame, {args.candidates} candidates, {args.requests} requests: "
          f"p50 {percentile(timings, 0.5):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms wall; "
          f"p50 {percentile(cpu, 0.5):.1f} ms CPU (this process)")


if __name__ == "__main__":
    main()
