"""Embed every book's document (and description) once; reuse vectors of unchanged texts next run."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow.parquet as pq

from vibeshelf.embed.encoder import Encoder
from vibeshelf.storage.files import fsync_path, fsync_tree

log = logging.getLogger(__name__)

VECTORS_FILE = "vectors.npy"
IDS_FILE = "ids.json"
HASHES_FILE = "hashes.json"
MANIFEST_FILE = "manifest.json"

# What a set embeds: each book's whole document (what the vector index searches), or only its
# description, whole-book documents being cut at the model's token limit well before most
# descriptions end (a rerank feature; books without a description have no vector).
Field = Literal["document", "description"]


@dataclass
class EmbeddingManifest:
    """What a set of book vectors was made from."""

    model_name: str
    model_version: str
    dim: int
    count: int
    catalog_checksum: str
    encoded: int
    reused: int
    seconds: float
    built_at: str


@dataclass
class EmbeddingSet:
    """Book ids, their unit vectors (row-aligned) and the manifest."""

    ids: list[str]
    vectors: np.ndarray
    manifest: EmbeddingManifest


def embeddings_path(embeddings_dir: Path, model_name: str, field: Field = "document") -> Path:
    name = model_name.lower()
    return embeddings_dir / (name if field == "document" else f"{name}-{field}s")


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def embed_catalog(
    books_path: Path,
    catalog_checksum: str,
    encoder: Encoder,
    embeddings_dir: Path,
    batch_size: int = 32,
    progress: bool = True,
    field: Field = "document",
) -> EmbeddingSet:
    """Encode each book's `field` (books with an empty one are left out), reusing vectors whose
    text and model version are unchanged."""
    started = time.perf_counter()
    table = pq.read_table(books_path, columns=["book_id", field]).to_pydict()
    rows = [(i, text) for i, text in zip(table["book_id"], table[field], strict=True) if text]
    ids = [i for i, _ in rows]
    texts = [text for _, text in rows]
    hashes = [text_hash(text) for text in texts]
    out_dir = embeddings_path(embeddings_dir, encoder.name, field)
    previous = _reusable_vectors(out_dir, encoder.version)
    vectors = np.zeros((len(ids), encoder.dim), dtype=np.float32)
    todo = [i for i, h in enumerate(hashes) if h not in previous]
    for i, h in enumerate(hashes):
        if h in previous:
            vectors[i] = previous[h]
    if todo:
        vectors[todo] = encoder.encode(
            [texts[i] for i in todo], batch_size=batch_size, progress=progress
        )
    manifest = EmbeddingManifest(
        model_name=encoder.name,
        model_version=encoder.version,
        dim=encoder.dim,
        count=len(ids),
        catalog_checksum=catalog_checksum,
        encoded=len(todo),
        reused=len(ids) - len(todo),
        seconds=round(time.perf_counter() - started, 2),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    _write(out_dir, ids, hashes, vectors, manifest)
    log.debug(  # the CLI prints it
        "embedded %d %ss (%d reused) in %.1fs", len(ids), field, manifest.reused, manifest.seconds
    )
    return EmbeddingSet(ids, vectors, manifest)


def load_embeddings(
    embeddings_dir: Path, model_name: str, field: Field = "document"
) -> EmbeddingSet:
    """The last embedding set written for `model_name` and `field`."""
    out_dir = _committed(embeddings_path(embeddings_dir, model_name, field))
    manifest_file = out_dir / MANIFEST_FILE
    if not manifest_file.is_file():
        raise FileNotFoundError(
            f"no embeddings for {model_name} in {out_dir}: run `vibeshelf embed`"
        )
    manifest = EmbeddingManifest(**json.loads(manifest_file.read_text()))
    ids = json.loads((out_dir / IDS_FILE).read_text())
    return EmbeddingSet(ids, np.load(out_dir / VECTORS_FILE), manifest)


def _committed(out_dir: Path) -> Path:
    """`out_dir`, or its `.old` twin when a crash fell between the two renames of a swap."""
    old = _sibling(out_dir, ".old")
    return old if not out_dir.exists() and old.is_dir() else out_dir


def _sibling(out_dir: Path, suffix: str) -> Path:
    return out_dir.with_name(out_dir.name + suffix)


def _reusable_vectors(out_dir: Path, model_version: str) -> dict[str, np.ndarray]:
    out_dir = _committed(out_dir)
    try:
        manifest = json.loads((out_dir / MANIFEST_FILE).read_text())
        if manifest["model_version"] != model_version:
            return {}
        hashes = json.loads((out_dir / HASHES_FILE).read_text())
        vectors = np.load(out_dir / VECTORS_FILE)
    except (OSError, ValueError, KeyError):
        return {}
    return dict(zip(hashes, vectors, strict=True))


def _write(
    out_dir: Path,
    ids: list[str],
    hashes: list[str],
    vectors: np.ndarray,
    manifest: EmbeddingManifest,
) -> None:
    """Write into a sibling temp dir, fsync it, then swap it in whole.

    On failure the previous set stays in place; a crash between the two renames leaves it as
    `.old`, which readers fall back to.
    """
    tmp, old = _sibling(out_dir, ".tmp"), _sibling(out_dir, ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        np.save(tmp / VECTORS_FILE, vectors)
        (tmp / IDS_FILE).write_text(json.dumps(ids))
        (tmp / HASHES_FILE).write_text(json.dumps(hashes))
        (tmp / MANIFEST_FILE).write_text(json.dumps(asdict(manifest), indent=2))
        fsync_tree(tmp)
        _swap(tmp, out_dir, old)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    fsync_path(out_dir.parent)
    shutil.rmtree(old, ignore_errors=True)


def _swap(tmp: Path, out_dir: Path, old: Path) -> None:
    """Move `out_dir` aside to `old` and `tmp` into its place; put it back if that fails."""
    if out_dir.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out_dir, old)
    try:
        os.replace(tmp, out_dir)
    except OSError:
        if old.is_dir() and not out_dir.exists():
            os.replace(old, out_dir)
        raise
