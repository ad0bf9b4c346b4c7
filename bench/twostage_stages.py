"""Two-stage pipeline stage timings in process: per-stage p50/p95 for model readers, liked lists and
readers with a stored history, over the data dir's served model and current ranker.

    VIBESHELF_DATA_DIR=/path/to/data python bench/twostage_stages.py --readers 300 --total 500

BLAS runs single-threaded, as the server runs it; the machine's load average is printed with the
figures (other processes on the machine slow every stage).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
from threadpoolctl import threadpool_limits

from vibeshelf.recommend.sources import Profile
from vibeshelf.serve.recommender import load_recommender
from vibeshelf.settings import Settings

STAGES = ("retrieve", "features", "rank", "boosts", "rules")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=300, help="requests per reader kind")
    parser.add_argument("--total", type=int, default=500, help="merged candidates at most")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    base = Settings()
    retrieval = base.recommend.retrieval.model_copy(update={"total": args.total})
    rec = base.recommend.model_copy(update={"retrieval": retrieval})
    service = load_recommender(base.model_copy(update={"recommend": rec}), pipeline="two-stage")
    if service is None or service.two_stage is None:
        raise SystemExit("no two-stage pipeline: train a model and a ranker first")
    model, pipeline = service.model, service.two_stage.pipeline
    rng = np.random.default_rng(args.seed)
    users = rng.choice(len(model.users), args.readers, replace=False)
    ids = model.items.ids
    kinds = {
        "model reader": [Profile(user_id=model.users[u]) for u in users],
        "liked list (10 books)": [
            Profile(liked=tuple(ids[i] for i in model.user_items(u)[:10])) for u in users
        ],
        "stored history (unknown id)": [
            Profile(
                user_id=f"new-{u}",
                liked=tuple(ids[i] for i in model.user_items(u)),
                seen=frozenset(ids[i] for i in model.user_items(u)),
            )
            for u in users
        ],
    }
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()}")
    print(f"model {model.version}, ranker {service.two_stage.ranker_version}, sources "
          f"{pipeline.retrieve.names}, total {args.total}")
    with threadpool_limits(limits=1, user_api="blas"):
        for kind, profiles in kinds.items():
            for p in profiles[:20]:  # warm-up
                pipeline(p, 10)
            stages: dict[str, list[float]] = {s: [] for s in STAGES}
            totals, candidates = [], []
            for profile in profiles:
                started = time.perf_counter()
                result = pipeline(profile, 10)
                totals.append((time.perf_counter() - started) * 1000)
                candidates.append(result.counts["candidates"])
                for s in STAGES:
                    stages[s].append(result.timings_ms[s])
            cells = ", ".join(f"{s} {np.median(v):.2f}" for s, v in stages.items())
            print(f"{kind}: total p50 {np.median(totals):.2f} ms, p95 "
                  f"{np.percentile(totals, 95):.2f} ms; stage p50 ms: {cells}; candidates p50 "
                  f"{int(np.median(candidates))}")
    print(f"load average after {os.getloadavg()}")
    service.close()


if __name__ == "__main__":
    main()
