"""The query log is valid JSON lines, one per query, from many threads."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from vibeshelf.search.querylog import QueryLog


def test_concurrent_writes_give_one_json_object_per_line(tmp_path: Path) -> None:
    log = QueryLog(tmp_path / "logs" / "queries.jsonl")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: log.write({"query": f"q{i}", "results": list(range(i % 7))}), range(400)))
    log.close()
    lines = (tmp_path / "logs" / "queries.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert sorted(e["query"] for e in entries) == sorted(f"q{i}" for i in range(400))
    assert all("ts" in e for e in entries)
