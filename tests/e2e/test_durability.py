"""End to end: concurrent `vibeshelf index` runs, kills mid-build, damaged files and pruning under
a live server never leave a data dir that cannot be served."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, VIBESHELF, Server, free_port, run_cli


@pytest.fixture
def data_dir(sample_data_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the sample data dir: these tests rebuild, kill and damage it."""
    copy = tmp_path / "data"
    shutil.copytree(sample_data_dir, copy)
    return copy


def start_index(data_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "VIBESHELF_DATA_DIR": str(data_dir)}
    return subprocess.Popen(
        [*VIBESHELF, "index"], env=env, cwd=REPO, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def current(root: Path) -> str:
    return (root / "CURRENT").read_text()


def build_dirs(root: Path) -> set[str]:
    return {p.name for p in (root / "builds").iterdir()}


def served_pair(server: Server) -> tuple[dict[str, object], dict[str, object]]:
    body = httpx.get(f"{server.url}/health").json()
    return body["index"], body["lexical"]


def change_catalog(data_dir: Path, rows: int) -> None:
    """Keep the first `rows` books of the catalog and embed them (vectors reused, none encoded)."""
    books = data_dir / "catalog" / "books.parquet"
    table = pq.read_table(books)
    pq.write_table(table.slice(0, rows), books)
    run_cli("embed", data_dir=data_dir)


def test_index_runs_at_once_take_turns_and_current_is_never_torn(data_dir: Path) -> None:
    pointer = data_dir / "index" / "CURRENT"
    seen: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.append(pointer.read_text())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        runs = [start_index(data_dir) for _ in range(3)]
        outputs = [run.communicate(timeout=600) for run in runs]
    finally:
        done.set()
        watcher.join()
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
    assert any("waiting for another writer" in err for _, err in outputs)
    made = {found for out, _ in outputs for found in re.findall(r"hnsw build (\S+)", out)}
    assert len(made) == 3
    assert seen and set(seen) <= made | {seen[0]}  # never empty, torn or unknown
    assert current(data_dir / "index") in made
    assert not list((data_dir / "index").glob("*.tmp")) and not list((data_dir / "index").glob(".tmp-*"))


def test_a_kill_between_the_bm25_and_vector_builds_leaves_the_old_pair_served(
    data_dir: Path,
) -> None:
    old = current(data_dir / "index")
    old_count = pq.read_metadata(data_dir / "catalog" / "books.parquet").num_rows
    change_catalog(data_dir, old_count - 50)
    lexical_before = build_dirs(data_dir / "lexical")
    run = start_index(data_dir)
    while not build_dirs(data_dir / "lexical") - lexical_before:  # the BM25 build is in place
        assert run.poll() is None, "index finished before it could be killed"
        time.sleep(0.001)
    time.sleep(0.2)  # all its steps done; the vector build takes longer
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert current(data_dir / "index") == old  # killed between the two builds

    server = Server(data_dir, free_port())
    try:
        server.wait_ready()
        index, lexical = served_pair(server)
    finally:
        server.stop()
    assert index["build_id"] == old
    assert index["count"] == lexical["count"] == old_count


def test_kills_at_points_spread_over_index_runs_always_leave_a_servable_pair(
    data_dir: Path,
) -> None:
    full = pq.read_metadata(data_dir / "catalog" / "books.parquet").num_rows
    started = time.monotonic()
    run_cli("index", data_dir=data_dir)
    duration = time.monotonic() - started
    kills = 6
    for k in range(kills):
        change_catalog(data_dir, full - 10 * (k + 1))  # every build from another catalog
        run = start_index(data_dir)
        time.sleep(duration * (0.2 + 0.8 * (k + 0.5) / kills))  # spread over a whole run
        run.send_signal(signal.SIGKILL)
        run.wait()
        result = run_cli("search", "a cozy village mystery", "--limit", "1", data_dir=data_dir,
                         check=False)
        assert result.returncode == 0, result.stderr
    run_cli("index", data_dir=data_dir)
    assert not list((data_dir / "index").glob(".tmp-*"))
    assert not list((data_dir / "lexical").glob(".tmp-*"))


def damage(path: Path) -> None:
    """Overwrite the middle third of a file with random bytes, keeping its size."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(size // 3)
        fh.write(os.urandom(size // 3))


@pytest.mark.parametrize("name", ["index.bin", "vectors.npy"])
def test_a_damaged_build_is_refused_with_the_command_that_rebuilds_it(
    data_dir: Path, name: str
) -> None:
    build = current(data_dir / "index")
    damage(data_dir / "index" / "builds" / build / name)
    result = run_cli("search", "a cozy village mystery", data_dir=data_dir, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert build in result.stderr and name in result.stderr
    assert "vibeshelf index" in result.stderr

    server = Server(data_dir, free_port())
    assert server.proc.wait(timeout=120) == 2
    assert f"{name} does not match its checksum" in server.stop()

    run_cli("index", data_dir=data_dir)  # rebuilding needs nothing from the damaged build
    assert run_cli("search", "a cozy village mystery", data_dir=data_dir).returncode == 0


def test_a_damaged_bm25_build_is_refused(data_dir: Path) -> None:
    build = current(data_dir / "index")
    lexical = json.loads((data_dir / "index" / "builds" / build / "manifest.json").read_text())
    bm25 = data_dir / "lexical" / "builds" / lexical["lexical_build"] / "bm25"
    damage(max(bm25.iterdir(), key=lambda p: p.stat().st_size))
    result = run_cli("search", "a cozy village mystery", data_dir=data_dir, check=False)
    assert result.returncode == 2
    assert lexical["lexical_build"] in result.stderr and "vibeshelf index" in result.stderr


def test_builds_without_checksums_still_load(data_dir: Path) -> None:
    for checksums in data_dir.glob("*/builds/*/checksums.json"):
        checksums.unlink()
    result = run_cli("search", "a cozy village mystery", "--json", data_dir=data_dir)
    assert json.loads(result.stdout)["results"]


def test_rebuilds_never_prune_the_build_a_live_server_serves(data_dir: Path) -> None:
    server = Server(data_dir, free_port())
    try:
        server.wait_ready()
        served, lexical = served_pair(server)
        for _ in range(2):  # keep_builds = 2: the served build is the third newest
            run_cli("index", data_dir=data_dir)
        newest = current(data_dir / "index")
        assert served["build_id"] in build_dirs(data_dir / "index")
        assert lexical["build_id"] in build_dirs(data_dir / "lexical")
        index_now, _ = served_pair(server)
        assert index_now["build_id"] == served["build_id"]
        assert index_now["latest_build_id"] == newest
        found = httpx.get(f"{server.url}/api/search", params={"q": "a cozy village mystery"})
        assert found.status_code == 200 and found.json()["results"]
    finally:
        server.stop()
    run_cli("index", data_dir=data_dir)  # no server holds it now
    assert served["build_id"] not in build_dirs(data_dir / "index")
    assert lexical["build_id"] not in build_dirs(data_dir / "lexical")
