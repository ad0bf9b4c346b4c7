"""Atomic build directories: builds/<id> written whole in a temp dir, checksummed, named by CURRENT.

Writers of one root queue on an exclusive file lock; a reading process holds a shared lease on
the build it serves, and pruning never removes a leased build.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from vibeshelf.storage.errors import StoreError
from vibeshelf.storage.files import atomic_write, file_sha256, fsync_path, fsync_tree

CURRENT = "CURRENT"
BUILDS = "builds"
TMP_PREFIX = ".tmp-"
WRITERS_LOCK = ".writers.lock"
LEASES = "leases"
LEASES_LOCK = ".leases.lock"
CHECKSUMS = "checksums.json"
MANIFEST = "manifest.json"
INDEX_LOCK = ".index.lock"  # in the data dir: one `vibeshelf index` writes at a time

log = logging.getLogger(__name__)


class DamagedBuildError(StoreError):
    """A build's files do not match the checksums recorded when it was written."""


def build_dir(root: Path, build_id: str) -> Path:
    return root / BUILDS / build_id


def publish(
    root: Path,
    build_id: str,
    write: Callable[[Path], None],
    builds: Path | None = None,
    point: bool = True,
) -> Path:
    """Run `write` into a temp dir, record its files' checksums, fsync it, rename it to
    <builds>/<build_id> (default <root>/builds) and, if `point`, point <root>/CURRENT at it.

    A crash or an exception at any step leaves CURRENT on the build it named before. Writers of
    one root take turns; temp dirs left by killed writers are removed first.
    """
    root.mkdir(parents=True, exist_ok=True)
    with exclusive(root / WRITERS_LOCK, f"builds of {root}"):
        for stale in root.glob(f"{TMP_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in root.glob(f".{CURRENT}.*.tmp"):  # a pointer write cut short
            stale.unlink(missing_ok=True)
        tmp = root / f"{TMP_PREFIX}{build_id}"
        tmp.mkdir()
        try:
            write(tmp)
            write_checksums(tmp)
            fsync_tree(tmp)
            final = (builds or root / BUILDS) / build_id
            final.parent.mkdir(exist_ok=True)
            os.replace(tmp, final)
            fsync_path(final.parent)
            if point:
                atomic_write(root / CURRENT, build_id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final


@contextmanager
def exclusive(path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive lock on the file `path` (created if need be), waiting, and saying so,
    while another process holds it. The kernel releases it when its holder dies."""
    with open(path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("waiting for another writer of %s to finish (lock %s)", what, path)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def hold(root: Path, build_id: str) -> IO[str]:
    """Lease `build_id` for as long as the returned file stays open (or the process lives):
    `prune` keeps it. FileNotFoundError when the build is gone."""
    (root / LEASES).mkdir(exist_ok=True)
    with _leases_locked(root):
        if not build_dir(root, build_id).is_dir():
            raise FileNotFoundError(f"build {build_id} is not in {root / BUILDS}")
        lease = open(root / LEASES / build_id, "a")  # noqa: SIM115 - held while the build is served
        fcntl.flock(lease, fcntl.LOCK_SH)
    return lease


def prune(root: Path, keep_ids: set[str], keep: int) -> None:
    """Remove builds other than `keep_ids`, the newest `keep` and those a live process leases."""
    builds = root / BUILDS
    if not builds.is_dir():
        return
    with _leases_locked(root):
        names = sorted(p.name for p in builds.iterdir() if p.is_dir())
        for name in names[: max(0, len(names) - keep)]:
            if name not in keep_ids and not _remove_unleased(root, name):
                log.info("build %s in %s kept: a running process serves it", name, root)


@contextmanager
def _leases_locked(root: Path) -> Iterator[None]:
    """Taking a lease and pruning exclude each other (both are quick)."""
    with open(root / LEASES_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _remove_unleased(root: Path, build_id: str) -> bool:
    """Remove a build and its lease file unless a process holds the lease; whether removed."""
    lease_path = root / LEASES / build_id
    if lease_path.exists():
        with open(lease_path, "a") as lease:
            try:
                fcntl.flock(lease, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            shutil.rmtree(build_dir(root, build_id), ignore_errors=True)
            lease_path.unlink()
            return True
    shutil.rmtree(build_dir(root, build_id), ignore_errors=True)
    return True


def current_build(root: Path) -> str | None:
    """The build id CURRENT names, or None before the first build."""
    pointer = root / CURRENT
    return pointer.read_text().strip() if pointer.is_file() else None


def previous_build(root: Path, build_id: str) -> str | None:
    """The newest complete build older than `build_id`."""
    builds = root / BUILDS
    if not builds.is_dir():
        return None
    older = sorted(p.name for p in builds.iterdir() if p.is_dir() and p.name < build_id)
    return older[-1] if older else None


def manifest_values(root: Path, key: str) -> set[str]:
    """The non-empty values of `key` in the manifests of the builds under `root`."""
    values = set()
    for manifest in (root / BUILDS).glob(f"*/{MANIFEST}"):
        try:
            value = json.loads(manifest.read_text()).get(key)
        except (OSError, ValueError):
            continue  # a damaged build: it names nothing to keep
        if value:
            values.add(value)
    return values


def write_checksums(build: Path) -> None:
    """Record the sha256 of every file under `build` in its checksums file."""
    files = sorted(p for p in build.rglob("*") if p.is_file())
    sums = {p.relative_to(build).as_posix(): file_sha256(p) for p in files}
    (build / CHECKSUMS).write_text(json.dumps(sums, indent=2))


def verify(build: Path) -> None:
    """DamagedBuildError unless every file recorded in the build's checksums file is intact
    (a build written before checksums were recorded passes unchecked)."""
    try:
        sums = json.loads((build / CHECKSUMS).read_text())
    except FileNotFoundError:
        return
    except ValueError as exc:
        raise _damaged(build, f"{CHECKSUMS} is unreadable ({exc})") from exc
    for name, expected in sums.items():
        try:
            actual = file_sha256(build / name)
        except OSError as exc:
            raise _damaged(build, f"{name} is unreadable ({exc})") from exc
        if actual != expected:
            raise _damaged(build, f"{name} does not match its checksum")


def _damaged(build: Path, why: str) -> DamagedBuildError:
    return DamagedBuildError(
        f"build {build.name} in {build.parent} is damaged: {why}; "
        "run `vibeshelf index` to write a new one"
    )
