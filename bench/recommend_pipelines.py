"""The recommendation benchmark's pipelines: a run's figures, the in-process runs and the
two-stage / ALS comparison table."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from benchlib import percentile

PIPELINES = ("als", "two-stage")


# Two-stage in process, a known reader, the configured candidates (500): p50 target.
TWO_STAGE_TARGET_MS = 15.0


@dataclass(frozen=True)
class Cell:
    """One pipeline at one client count, over HTTP or in process: latencies (ms) by request kind."""

    pipeline: str
    clients: int
    where: str
    latencies: dict[str, list[float]]
    errors: int
    seconds: float

    @property
    def every(self) -> list[float]:
        return [ms for values in self.latencies.values() for ms in values]

    @property
    def per_second(self) -> float:
        return len(self.every) / self.seconds


def ranker_line(data_dir: Path) -> str | None:
    """The current ranker version and what it was trained on, or None without one."""
    from vibeshelf.recommend.twostage.ranker_record import ranker_root
    from vibeshelf.settings import Settings

    root = ranker_root(Settings(data_dir=data_dir))
    current = root / "CURRENT"
    if not current.is_file():
        return None
    version = current.read_text().strip()
    meta = json.loads((root / version / "metadata.json").read_text())
    readers = meta["trained_on"]["readers"]
    return (
        f"ranker: {version} (LightGBM LambdaRank, {len(meta['features'])} features, "
        f"{meta['best_iteration']} trees, trained on {readers['ranker_train']:,} readers of "
        f"{meta['trained_on']['source']})"
    )


def in_process(
    data_dir: Path, pipelines: list[str], work: list[tuple[str, bytes]],
    warmup: list[tuple[str, bytes]],
) -> list[Cell]:
    """Each pipeline over `work` in this process, one request at a time, answer cache off, BLAS
    threads capped as a server caps them."""
    os.environ["VIBESHELF_RECOMMEND__CACHE_URL"] = ""
    from vibeshelf.recommend.schemas import RecommendRequest
    from vibeshelf.serve.recommender import load_recommender
    from vibeshelf.serve.runtime import limit_blas_threads
    from vibeshelf.settings import Settings

    settings = Settings(data_dir=data_dir)
    limit_blas_threads(settings.serve.blas_threads)
    service = load_recommender(settings)
    if service is None:
        raise SystemExit(f"no recommender in {data_dir}")
    cells = []
    try:
        for pipeline in pipelines:
            requests = [
                (kind, RecommendRequest.model_validate({**json.loads(body), "pipeline": pipeline}))
                for kind, body in [*warmup, *work]
            ]
            latencies: dict[str, list[float]] = {kind: [] for kind, _ in requests}
            started = 0.0
            for n, (kind, request) in enumerate(requests):
                if n == len(warmup):
                    started = time.perf_counter()
                began = time.perf_counter()
                service.recommend(request)
                if n >= len(warmup):
                    latencies[kind].append((time.perf_counter() - began) * 1000)
            cells.append(Cell(pipeline, 1, "in process", latencies, 0, time.perf_counter() - started))
    finally:
        service.close()
    return cells


def compare(cells: list[Cell]) -> None:
    """p50/p95 (all requests and known readers) and throughput per pipeline, client count and
    place, then two-stage over ALS for each."""
    print("| pipeline | clients | where | requests | p50 ms | p95 ms | known p50 | known p95 | req/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c in cells:
        known = c.latencies.get("known", [])
        print(
            f"| {c.pipeline} | {c.clients} | {c.where} | {len(c.every)} | "
            f"{percentile(c.every, 0.5):.2f} | {percentile(c.every, 0.95):.2f} | "
            f"{percentile(known, 0.5):.2f} | {percentile(known, 0.95):.2f} | {c.per_second:.0f} |"
        )
    by_key = {(c.pipeline, c.clients, c.where): c for c in cells}
    for (pipeline, clients, where), two in by_key.items():
        als = by_key.get(("als", clients, where))
        if pipeline != "two-stage" or als is None:
            continue
        ratio = lambda q, a=als, t=two: percentile(t.every, q) / percentile(a.every, q)
        print(
            f"two-stage / ALS at {clients} client{'s' if clients > 1 else ''}, {where}: "
            f"p50 x{ratio(0.5):.2f}, p95 x{ratio(0.95):.2f}, "
            f"throughput x{two.per_second / als.per_second:.2f}"
        )
    for c in cells:
        if c.pipeline == "two-stage" and c.where == "in process" and c.latencies.get("known"):
            p50 = percentile(c.latencies["known"], 0.5)
            verdict = "met" if p50 <= TWO_STAGE_TARGET_MS else "NOT met"
            print(f"two-stage in process, known readers: p50 {p50:.2f} ms, target <= "
                  f"{TWO_STAGE_TARGET_MS:.0f} ms {verdict}")
