"""Search rankings snapshot: every evaluation query and the search benchmark's 400 queries
(bench/search.py) in every mode, their ranked book ids and scores.

Run it before and after a change that must not move any result (a speed change, say) and compare:

    python bench/search_rankings.py --out before.json           # on the unchanged code
    python bench/search_rankings.py --compare before.json       # after: exit 1 if any ranking moved

Uses the data dir of the settings (VIBESHELF_DATA_DIR), the query cache off, the query log off.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SETS = ("reader_queries", "shelf_vibes", "tip_of_tongue", "train_queries", "train_reader_queries")
MODES = (("hybrid", True), ("hybrid", False), ("vector", None), ("lexical", None))  # (mode, rerank)
BENCH_QUERIES = 400  # as many as bench/search.py times
SCORE_TOLERANCE = 1e-4  # scores are rounded to 4 places in responses


def snapshot(limit: int) -> dict[str, list[list[Any]]]:
    """"mode|query" -> [[book id, score, similarity], ...] best first, for every set's queries."""
    from vibeshelf.search.schemas import SearchParams
    from vibeshelf.serve.runtime import Runtime
    from vibeshelf.settings import Settings

    settings = Settings()
    settings.serve.query_log = False
    settings.search.query_cache_size = 0
    sys.path.insert(0, str(REPO / "bench"))
    from search import queries

    texts = sorted({json.loads(line)["query"] for name in SETS
                    for line in (REPO / "eval" / f"{name}.jsonl").read_text().splitlines() if line.strip()}
                   | set(queries(BENCH_QUERIES)))
    runtime = Runtime.load(settings)
    try:
        out = {}
        for mode, rerank in MODES:
            for text in texts:
                params = SearchParams(q=text, mode=mode, rerank=rerank, limit=limit)  # type: ignore[arg-type]
                response = runtime.search.search(params)
                out[f"{mode}{'+rerank' if rerank else ''}|{text}"] = [[r.book_id, r.score, r.similarity] for r in response.results]
    finally:
        runtime.close()
    return out


def differences(before: dict[str, list[list[Any]]], after: dict[str, list[list[Any]]]) -> list[str]:
    """One line per query whose ids, order or scores differ."""
    lines = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key, []), after.get(key, [])
        if [r[0] for r in old] != [r[0] for r in new]:
            lines.append(f"{key}: ids {[r[0] for r in old][:5]}... -> {[r[0] for r in new][:5]}...")
            continue
        for (_, s0, v0), (_, s1, v1) in zip(old, new, strict=True):
            if abs(s0 - s1) > SCORE_TOLERANCE or (v0 is None) != (v1 is None) or (
                v0 is not None and abs(v0 - v1) > SCORE_TOLERANCE
            ):
                lines.append(f"{key}: scores {s0}/{v0} -> {s1}/{v1}")
                break
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="write the snapshot here")
    parser.add_argument("--compare", type=Path, help="compare with this earlier snapshot")
    parser.add_argument("--limit", type=int, default=20, help="results per query")
    args = parser.parse_args()
    now = snapshot(args.limit)
    if args.out:
        args.out.write_text(json.dumps(now))
    if args.compare:
        moved = differences(json.loads(args.compare.read_text()), now)
        print("\n".join(moved[:20]))
        print(f"{len(now)} rankings, {len(moved)} differ")
        sys.exit(1 if moved else 0)


if __name__ == "__main__":
    main()
