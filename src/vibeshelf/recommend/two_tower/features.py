"""The towers' inputs: each item's text vector and canonical genres, each reader's history."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import scipy.sparse as sp

from vibeshelf.embed.vectors import load_embeddings


@dataclass(frozen=True)
class ItemInputs:
    """Row-aligned item ids and content features: [text vector | L2-normalised genre multi-hot]."""

    ids: list[str]
    content: np.ndarray
    genres: list[str]


def item_inputs(
    ids: list[str], text_ids: list[str], text: np.ndarray, books_path: Path
) -> ItemInputs:
    """Content features for `ids`: the text vector where one exists (zeros where not) beside the
    catalog's canonical genres (none for an item the catalog does not hold)."""
    row = {book: i for i, book in enumerate(text_ids)}
    vectors = np.zeros((len(ids), text.shape[1]), np.float32)
    have = [(i, row[book]) for i, book in enumerate(ids) if book in row]
    if have:
        vectors[[i for i, _ in have]] = text[[j for _, j in have]]
    table = pq.read_table(books_path, columns=["book_id", "genres"]).to_pydict()
    book_genres = dict(zip(table["book_id"], table["genres"], strict=True))
    vocab = sorted({g for gs in table["genres"] for g in gs or ()})
    column = {g: j for j, g in enumerate(vocab)}
    pairs = [(i, column[g]) for i, book in enumerate(ids) for g in book_genres.get(book) or ()]
    hot = np.zeros((len(ids), len(vocab)), np.float32)
    if pairs:
        hot[tuple(np.array(pairs).T)] = 1.0
    norms = np.linalg.norm(hot, axis=1, keepdims=True)
    hot = np.divide(hot, norms, out=np.zeros_like(hot), where=norms > 0)
    return ItemInputs(list(ids), np.hstack([vectors, hot]), vocab)


def catalog_item_inputs(
    ids: list[str], embeddings_dir: Path, model_name: str, books_path: Path
) -> ItemInputs:
    """`item_inputs` with the catalog's book vectors (`vibeshelf embed`'s document vectors)."""
    embeddings = load_embeddings(embeddings_dir, model_name)
    return item_inputs(ids, embeddings.ids, embeddings.vectors, books_path)


def history_weights(strengths: sp.csr_matrix, implicit_weight: float) -> sp.csr_matrix:
    """Users x items history weights: a rating's strength, `implicit_weight` for an implicit row."""
    weights = strengths.copy().astype(np.float32)
    weights.data = np.where(np.isnan(weights.data), implicit_weight, weights.data).astype(
        np.float32
    )
    weights.eliminate_zeros()
    return weights
