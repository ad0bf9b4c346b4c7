"""The query log is valid JSON lines, one per query, from many threads and processes, rotated by
size without losing a line, and the suggestions count each query once across rotations."""

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from vibeshelf.search.autocomplete import PopularQueries
from vibeshelf.search.querylog import QueryLog, log_files


def test_concurrent_writes_give_one_json_object_per_line(tmp_path: Path) -> None:
    log = QueryLog(tmp_path / "logs" / "queries.jsonl")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: log.write({"query": f"q{i}", "results": list(range(i % 7))}), range(400)))
    log.close()
    lines = (tmp_path / "logs" / "queries.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    assert sorted(e["query"] for e in entries) == sorted(f"q{i}" for i in range(400))
    assert all("ts" in e for e in entries)


WRITER = """
import sys
from pathlib import Path
from vibeshelf.search.querylog import QueryLog
log = QueryLog(Path(sys.argv[1]), max_bytes=4096, keep=int(sys.argv[3]))
for i in range(300):
    log.write({"query": f"{sys.argv[2]}-{i}", "results": [1, 2, 3], "session": f"s{i}"})
"""


def write_from_processes(path: Path, keep: int) -> None:
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"w{n}", str(keep)])
        for n in range(3)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]


def test_processes_sharing_the_log_rotate_it_by_size_and_lose_no_line(tmp_path: Path) -> None:
    path = tmp_path / "queries.jsonl"
    write_from_processes(path, keep=1000)
    files = log_files(path)
    assert len(files) > 10
    assert all(f.stat().st_size < 4096 * 3 // 2 for f in files)  # others' lines while one rotates
    queries = [json.loads(line)["query"] for f in files for line in f.read_text().splitlines()]
    assert sorted(queries) == sorted(f"w{n}-{i}" for n in range(3) for i in range(300))
    popular = PopularQueries(path)
    popular.refresh()
    assert sum(len(sessions) for sessions in popular.sessions.values()) == 900


def test_rotation_keeps_only_the_newest_files(tmp_path: Path) -> None:
    path = tmp_path / "queries.jsonl"
    write_from_processes(path, keep=2)
    assert log_files(path) == [tmp_path / "queries.jsonl.2", tmp_path / "queries.jsonl.1", path]
    newest = [line for f in log_files(path) for line in f.read_text().splitlines()][-1]
    assert json.loads(newest)["query"].endswith("-299")  # the last writer's last line


def test_suggestions_count_each_query_once_while_the_log_rotates(tmp_path: Path) -> None:
    path = tmp_path / "queries.jsonl"
    log = QueryLog(path, max_bytes=2048, keep=100)
    popular = PopularQueries(path)
    for i in range(600):
        log.write({"query": f"query {i % 6}", "results": [1], "session": f"s{i}"})
        if i % 11 == 0:
            popular.refresh()
    popular.refresh()
    log.close()
    assert len(log_files(path)) > 10
    assert {k: len(v) for k, v in popular.sessions.items()} == {f"query {n}": 100 for n in range(6)}


def test_popular_queries_stay_bounded_and_keep_the_popular_ones(tmp_path: Path) -> None:
    """A flood of one-off queries (or sessions) cannot grow the table past its bounds, and never
    pushes out a query that is already popular."""
    path = tmp_path / "queries.jsonl"
    log = QueryLog(path)
    for session in ("s1", "s2", "s3"):
        log.write({"query": "cozy mystery", "results": [1], "session": session})
    for i in range(500):
        log.write({"query": f"one-off {i}", "results": [1], "session": f"flood-{i}"})
        log.write({"query": "cozy mystery", "results": [1], "session": f"many-{i}"})
    log.close()
    popular = PopularQueries(path, max_queries=50, max_sessions=20)
    popular.refresh()
    assert len(popular.sessions) <= 50 and len(popular.display) == len(popular.sessions)
    assert len(popular.sessions["cozy mystery"]) == 20
    assert [(key, sessions) for key, _, sessions in popular.popular()] == [("cozy mystery", 20)]
