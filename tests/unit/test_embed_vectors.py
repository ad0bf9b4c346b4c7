"""The embed stage: vectors reused by document hash, reset on a new model, swapped in whole."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from unittest.mock import MagicMock

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.embed import vectors
from vibeshelf.embed.encoder import Encoder
from vibeshelf.embed.vectors import EmbeddingSet, embed_catalog, embeddings_path, load_embeddings
from vibeshelf.index.base import VectorStore
from vibeshelf.index.build import StaleEmbeddingsError, build_index, check_embeddings

DOCUMENTS = {
    "1": "Dune by Frank Herbert. Shelves: science-fiction.",
    "2": "Emma by Jane Austen. Shelves: classics, romance.",
    "3": "The Hobbit by J.R.R. Tolkien. Shelves: fantasy.",
}


class CountingEncoder:
    """A deterministic encoder (a text's vector comes from its hash) that records every text."""

    normalization = "l2"

    def __init__(self, version: str = "fake/v1", dim: int = 8) -> None:
        self.name = "Fake-Encoder"
        self.version = version
        self.dim = dim
        self.seen: list[str] = []

    def encode(
        self, texts: Sequence[str], *, batch_size: int | None = None, progress: bool = False
    ) -> np.ndarray:
        self.seen.extend(texts)
        rows = [self.vector(text) for text in texts]
        return np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)

    def vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(f"{self.version}:{text}".encode()).digest()[:8])
        raw = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return raw / np.linalg.norm(raw)


def write_books(path: Path, documents: dict[str, str]) -> Path:
    table = pa.table({"book_id": list(documents), "document": list(documents.values())})
    pq.write_table(table, path)
    return path


def embed(tmp_path: Path, encoder: CountingEncoder, documents: dict[str, str]) -> EmbeddingSet:
    books = write_books(tmp_path / "books.parquet", documents)
    return embed_catalog(books, "sum-1", encoder, tmp_path / "embeddings", progress=False)


def test_fake_encoder_is_an_encoder() -> None:
    assert isinstance(CountingEncoder(), Encoder)


def test_first_run_encodes_every_document(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    result = embed(tmp_path, encoder, DOCUMENTS)
    assert sorted(encoder.seen) == sorted(DOCUMENTS.values())
    assert result.ids == list(DOCUMENTS)
    for row, text in zip(result.vectors, DOCUMENTS.values(), strict=True):
        np.testing.assert_array_equal(row, encoder.vector(text))
    assert (result.manifest.encoded, result.manifest.reused, result.manifest.count) == (3, 0, 3)
    assert result.manifest.model_version == "fake/v1" and result.manifest.dim == 8


def test_only_changed_and_new_documents_are_encoded_again(tmp_path: Path) -> None:
    first = embed(tmp_path, CountingEncoder(), DOCUMENTS)
    changed = {**DOCUMENTS, "2": "Emma by Jane Austen. Shelves: classics, comedy.", "4": "New."}
    encoder = CountingEncoder()
    second = embed(tmp_path, encoder, changed)
    assert encoder.seen == [changed["2"], changed["4"]]
    assert (second.manifest.encoded, second.manifest.reused) == (2, 2)
    np.testing.assert_array_equal(second.vectors[[0, 2]], first.vectors[[0, 2]])
    np.testing.assert_array_equal(second.vectors[1], encoder.vector(changed["2"]))
    assert not np.allclose(second.vectors[1], first.vectors[1])
    reloaded = load_embeddings(tmp_path / "embeddings", encoder.name)
    assert reloaded.ids == ["1", "2", "3", "4"]
    np.testing.assert_array_equal(reloaded.vectors, second.vectors)


def test_unchanged_catalog_encodes_nothing(tmp_path: Path) -> None:
    embed(tmp_path, CountingEncoder(), DOCUMENTS)
    encoder = CountingEncoder()
    again = embed(tmp_path, encoder, DOCUMENTS)
    assert encoder.seen == [] and again.manifest.reused == 3


def test_a_new_model_version_encodes_everything_again(tmp_path: Path) -> None:
    embed(tmp_path, CountingEncoder("fake/v1"), DOCUMENTS)
    encoder = CountingEncoder("fake/v2")
    result = embed(tmp_path, encoder, DOCUMENTS)
    assert sorted(encoder.seen) == sorted(DOCUMENTS.values())
    assert (result.manifest.encoded, result.manifest.reused) == (3, 0)
    assert load_embeddings(tmp_path / "embeddings", encoder.name).manifest.model_version == (
        "fake/v2"
    )


def fail_saving(monkeypatch: pytest.MonkeyPatch) -> None:
    """np.save writes half a file, then the disk fills up."""

    def save(path: Path, array: np.ndarray) -> None:
        Path(path).write_bytes(b"\x93NUMPY half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(vectors.np, "save", save)


def fail_swapping_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rename that moves the new set into place fails."""
    real = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        if str(src).endswith(".tmp"):
            raise OSError(5, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(vectors.os, "replace", replace)


@pytest.mark.parametrize("fail", [fail_saving, fail_swapping_in])
def test_a_failed_write_keeps_the_previous_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: object
) -> None:
    before = embed(tmp_path, CountingEncoder(), DOCUMENTS)
    fail(monkeypatch)  # type: ignore[operator]
    with pytest.raises(OSError):
        embed(tmp_path, CountingEncoder("fake/v2"), {**DOCUMENTS, "4": "New."})
    monkeypatch.undo()
    after = load_embeddings(tmp_path / "embeddings", "Fake-Encoder")
    assert after.ids == before.ids and after.manifest == before.manifest
    np.testing.assert_array_equal(after.vectors, before.vectors)
    assert [p.name for p in (tmp_path / "embeddings").iterdir()] == ["fake-encoder"]


def test_a_crash_between_the_two_renames_keeps_the_previous_set(tmp_path: Path) -> None:
    before = embed(tmp_path, CountingEncoder(), DOCUMENTS)
    out_dir = embeddings_path(tmp_path / "embeddings", "Fake-Encoder")
    os.replace(out_dir, out_dir.with_name(out_dir.name + ".old"))  # where a kill could stop it
    after = load_embeddings(tmp_path / "embeddings", "Fake-Encoder")
    np.testing.assert_array_equal(after.vectors, before.vectors)
    encoder = CountingEncoder()
    embed(tmp_path, encoder, DOCUMENTS)
    assert encoder.seen == []


def test_embeddings_of_another_catalog_are_refused(tmp_path: Path) -> None:
    result = embed(tmp_path, CountingEncoder(), DOCUMENTS)
    check_embeddings(result, "sum-1")
    with pytest.raises(StaleEmbeddingsError, match="vibeshelf embed"):
        check_embeddings(result, "sum-2")
    store = MagicMock(spec=VectorStore)
    with pytest.raises(StaleEmbeddingsError):
        build_index(store, MagicMock(spec=BookCatalog), "sum-2", result)
    store.rebuild.assert_not_called()


def test_descriptions_are_a_set_of_their_own_without_the_books_that_have_none(
    tmp_path: Path,
) -> None:
    books = tmp_path / "books.parquet"
    descriptions = ["A desert planet and its spice.", None, ""]
    pq.write_table(
        pa.table({
            "book_id": list(DOCUMENTS),
            "document": list(DOCUMENTS.values()),
            "description": pa.array(descriptions, pa.string()),
        }),
        books,
    )
    encoder = CountingEncoder()
    embed_catalog(books, "sum-1", encoder, tmp_path / "embeddings", progress=False)
    result = embed_catalog(
        books, "sum-1", encoder, tmp_path / "embeddings", progress=False, field="description"
    )
    assert result.ids == ["1"] and result.manifest.count == 1
    np.testing.assert_array_equal(result.vectors[0], encoder.vector(descriptions[0]))
    documents = load_embeddings(tmp_path / "embeddings", encoder.name)
    assert documents.ids == list(DOCUMENTS)  # the description set is written beside, not over it
    loaded = load_embeddings(tmp_path / "embeddings", encoder.name, "description")
    assert loaded.ids == ["1"]
    assert embeddings_path(tmp_path, encoder.name, "description") != embeddings_path(
        tmp_path, encoder.name
    )
    encoder.seen.clear()
    again = embed_catalog(
        books, "sum-1", encoder, tmp_path / "embeddings", progress=False, field="description"
    )
    assert encoder.seen == [] and again.manifest.reused == 1
