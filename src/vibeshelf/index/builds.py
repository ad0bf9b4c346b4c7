"""Atomic build directories: <root>/builds/<id> written whole via a temp dir, then named by CURRENT."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

CURRENT = "CURRENT"
BUILDS = "builds"


def build_dir(root: Path, build_id: str) -> Path:
    return root / BUILDS / build_id


def publish(root: Path, build_id: str, write: Callable[[Path], None]) -> Path:
    """Run `write` into a temp dir, fsync it, rename it into builds/ and point CURRENT at it.

    A crash or an exception at any step leaves CURRENT on the build it named before.
    """
    tmp = root / f".tmp-{build_id}"
    tmp.mkdir(parents=True)
    try:
        write(tmp)
        for path in tmp.iterdir():
            if path.is_file():
                with open(path, "rb") as fh:
                    os.fsync(fh.fileno())
        final = build_dir(root, build_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        atomic_write(root / CURRENT, build_id)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def current_build(root: Path) -> str | None:
    """The build id CURRENT names, or None before the first build."""
    pointer = root / CURRENT
    return pointer.read_text().strip() if pointer.is_file() else None


def previous_build(root: Path, build_id: str) -> str | None:
    """The newest complete build older than `build_id`."""
    builds = root / BUILDS
    older = sorted(p.name for p in builds.iterdir() if p.is_dir() and p.name < build_id) if builds.is_dir() else []
    return older[-1] if older else None


def prune(root: Path, served: str | None, keep: int) -> None:
    """Keep the served build and the newest keep - 1 others."""
    others = sorted(p for p in (root / BUILDS).iterdir() if p.is_dir() and p.name != served)
    for old in others[: max(0, len(others) - (keep - 1))]:
        shutil.rmtree(old, ignore_errors=True)


def atomic_write(path: Path, text: str) -> None:
    """Replace a small file's content all at once."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
