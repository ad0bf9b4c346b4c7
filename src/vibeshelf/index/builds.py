"""Atomic build directories: builds/<id> written whole in a temp dir, then named by CURRENT."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

CURRENT = "CURRENT"
BUILDS = "builds"
TMP_PREFIX = ".tmp-"
WRITERS_LOCK = ".writers.lock"


def build_dir(root: Path, build_id: str) -> Path:
    return root / BUILDS / build_id


def publish(
    root: Path, build_id: str, write: Callable[[Path], None], builds: Path | None = None
) -> Path:
    """Run `write` into a temp dir, fsync it, rename it to <builds>/<build_id> (default
    <root>/builds) and point <root>/CURRENT at it.

    A crash or an exception at any step leaves CURRENT on the build it named before. Temp dirs
    left by killed builds are removed first, unless another build of `root` is being written.
    """
    root.mkdir(parents=True, exist_ok=True)
    with _writing(root):
        tmp = root / f"{TMP_PREFIX}{build_id}"
        tmp.mkdir()
        try:
            write(tmp)
            fsync_tree(tmp)
            final = (builds or root / BUILDS) / build_id
            final.parent.mkdir(exist_ok=True)
            os.replace(tmp, final)
            fsync_path(final.parent)
            atomic_write(root / CURRENT, build_id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final


@contextmanager
def _writing(root: Path) -> Iterator[None]:
    """Hold the writers lock shared while a build is written.

    Every writer holds it from before it creates its temp dir until that dir is renamed or
    removed, and the kernel drops it when a writer dies. So whoever can take it exclusively
    knows no build is being written, and every temp dir present was left by a killed build.
    """
    with open(root / WRITERS_LOCK, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # a build is being written: its temp dir must stay
        else:
            for stale in root.glob(f"{TMP_PREFIX}*"):
                shutil.rmtree(stale, ignore_errors=True)
        fcntl.flock(lock, fcntl.LOCK_SH)
        yield


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


def prune(root: Path, served: str | None, keep: int) -> None:
    """Keep the served build and the newest keep - 1 others."""
    others = sorted(p for p in (root / BUILDS).iterdir() if p.is_dir() and p.name != served)
    for old in others[: max(0, len(others) - (keep - 1))]:
        shutil.rmtree(old, ignore_errors=True)


def atomic_write(path: Path, text: str) -> None:
    """Replace a small file's content all at once, durably."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_path(path.parent)


def fsync_tree(top: Path) -> None:
    """fsync every file and directory under `top`, and `top` itself, children first."""
    for dirpath, _, filenames in os.walk(top, topdown=False):
        for name in filenames:
            fsync_path(Path(dirpath, name))
        fsync_path(Path(dirpath))


def fsync_path(path: Path) -> None:
    """fsync one file or directory (a directory's entries: renames into it survive a crash)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
