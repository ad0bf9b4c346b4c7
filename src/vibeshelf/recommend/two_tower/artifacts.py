"""Versioned two-tower model directories under <data_dir>/models/two-tower/, named by CURRENT.

<root>/<version>/ holds metadata.json, items.json (item ids, model order), item_vectors.npy (the
item tower's unit outputs), user_tower.onnx, users.json and history.npz (each training reader's
history weights, the user tower's input for a known reader).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from vibeshelf.recommend.artifacts import ModelNotFoundError, current_version, versions
from vibeshelf.recommend.two_tower.user_tower import OnnxUserTower
from vibeshelf.settings import Settings
from vibeshelf.storage.builds import publish

METADATA_FILE = "metadata.json"
ITEMS_FILE = "items.json"
ITEM_VECTORS_FILE = "item_vectors.npy"
USER_TOWER_FILE = "user_tower.onnx"
USERS_FILE = "users.json"
HISTORY_FILE = "history.npz"


def two_tower_root(settings: Settings) -> Path:
    """Where two-tower model versions live."""
    return settings.models_dir / "two-tower"


@dataclass
class TwoTowerModel:
    """Item vectors, the ONNX user tower and the training readers' histories."""

    items: list[str]
    item_vectors: np.ndarray
    user_tower: OnnxUserTower
    users: list[str]
    history: sp.csr_matrix
    metadata: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def item_index(self) -> dict[str, int]:
        return {item: i for i, item in enumerate(self.items)}

    @cached_property
    def user_index(self) -> dict[str, int]:
        return {user: i for i, user in enumerate(self.users)}

    def user_history(self, user_id: str | None) -> np.ndarray | None:
        """A training reader's history weights over every item, or None for another reader."""
        user = self.user_index.get(user_id) if user_id is not None else None
        return None if user is None else self.history[user].toarray().ravel()


def write_two_tower(
    root: Path,
    version: str,
    write_tower: Callable[[Path], None],
    item_vectors: np.ndarray,
    items: list[str],
    users: list[str],
    history: sp.csr_matrix,
    metadata: dict[str, Any],
) -> Path:
    """Write a version whole (storage.builds.publish) and point CURRENT at it."""

    def write(tmp: Path) -> None:
        write_tower(tmp / USER_TOWER_FILE)
        np.save(tmp / ITEM_VECTORS_FILE, item_vectors.astype(np.float32))
        (tmp / ITEMS_FILE).write_text(json.dumps(items))
        (tmp / USERS_FILE).write_text(json.dumps(users))
        np.savez(
            tmp / HISTORY_FILE,
            indptr=history.indptr,
            indices=history.indices,
            data=history.data,
            shape=history.shape,
        )
        (tmp / METADATA_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True))

    return publish(root, version, write, builds=root)


def load_two_tower(root: Path, version: str | None = None) -> TwoTowerModel:
    """The version named, or the current one."""
    version = version or current_version(root)
    if version is None or not (root / version / METADATA_FILE).is_file():
        raise ModelNotFoundError(
            f"no two-tower model in {root}: run `vibeshelf train two-tower` first"
        )
    path = root / version
    saved = np.load(path / HISTORY_FILE)
    return TwoTowerModel(
        items=json.loads((path / ITEMS_FILE).read_text()),
        item_vectors=np.load(path / ITEM_VECTORS_FILE),
        user_tower=OnnxUserTower(path / USER_TOWER_FILE),
        users=json.loads((path / USERS_FILE).read_text()),
        history=sp.csr_matrix(
            (saved["data"], saved["indices"], saved["indptr"]), shape=tuple(saved["shape"])
        ),
        metadata=json.loads((path / METADATA_FILE).read_text()),
    )


def prune_two_tower(root: Path, keep: int) -> None:
    """Keep the newest `keep` versions and always the current one."""
    current = current_version(root)
    old = [v for v in versions(root) if v != current]
    for version in old[: max(0, len(old) - (keep - 1))]:
        shutil.rmtree(root / version, ignore_errors=True)
