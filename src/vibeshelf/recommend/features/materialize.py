"""`features materialize`: the Parquet sources from the catalog and interactions, then the online store."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.embed.vectors import load_embeddings
from vibeshelf.recommend.dataset import Interactions
from vibeshelf.recommend.features.books import book_features, genre_matrix
from vibeshelf.recommend.features.definitions import BOOKS_FILE, READERS_FILE, TEXT_DIMS
from vibeshelf.recommend.features.readers import days_since_last, reader_features
from vibeshelf.recommend.features.repo import FeatureRepo
from vibeshelf.recommend.features.text_summary import PCA_FILE, text_summary
from vibeshelf.recommend.storage.factory import open_interactions
from vibeshelf.settings import Settings

log = logging.getLogger(__name__)


class FeatureInputError(ValueError):
    """Inputs the features cannot be computed from (no interactions, not over the catalog)."""


@dataclass(frozen=True)
class MaterializeReport:
    """What one materialize wrote."""

    source: str
    books: int
    readers: int
    as_of: datetime
    seconds: float

    def summary(self) -> str:
        return (
            f"features of {self.books:,} books and {self.readers:,} readers ({self.source}) "
            f"as of {self.as_of:%Y-%m-%d %H:%M:%S} UTC in {self.seconds:.1f} s"
        )


def read_rows(settings: Settings, events_url: str, source: str) -> tuple[str, pa.Table]:
    """A source's name (`auto` resolved) and interactions; FeatureInputError unless it is over the
    catalog and has rows."""
    store = open_interactions(events_url, settings.data_dir)
    try:
        info = store.source(source)
        rows = store.read(info.name)
    finally:
        store.close()
    if info.item_space != "catalog":
        raise FeatureInputError(
            f"source {info.name!r} is over {info.item_space!r} items: features need catalog books"
        )
    if rows.num_rows == 0:
        raise FeatureInputError(f"source {info.name!r} has no interactions")
    return info.name, rows


def book_text(settings: Settings, ids: list[str], path: Path) -> np.ndarray:
    """Each book's text summary (catalog order; zeros for a book without a document vector, and
    for every book, logged, when the catalog was never embedded)."""
    text = np.zeros((len(ids), TEXT_DIMS))
    try:
        vectors = load_embeddings(settings.embeddings_dir, settings.model.name)
    except FileNotFoundError as exc:
        log.warning("book text summaries are zeros: %s", exc)
        return text
    summary = text_summary(vectors.vectors, TEXT_DIMS, path).project(vectors.vectors)
    row = {book_id: i for i, book_id in enumerate(vectors.ids)}
    for i, book_id in enumerate(ids):
        if book_id in row:
            text[i] = summary[row[book_id]]
    return text


def _write(frame: pd.DataFrame, path: Path) -> None:
    """Replace a Parquet file atomically."""
    tmp = path.with_suffix(".tmp")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
    tmp.replace(path)


def over_items(interactions: Interactions, ids: list[str]) -> Interactions:
    """The same interactions with their columns on `ids` (in that order); other items dropped."""
    index = {item: j for j, item in enumerate(ids)}
    cols = np.array([index.get(i, -1) for i in interactions.items], np.int64)
    coo = interactions.strengths.tocoo()
    keep = cols[coo.col] >= 0
    matrix = sp.csr_matrix(
        (coo.data[keep], (coo.row[keep], cols[coo.col[keep]])), shape=(coo.shape[0], len(ids))
    )
    return Interactions(interactions.users, list(ids), matrix)


def write_sources(
    settings: Settings, repo: FeatureRepo, interactions: Interactions, rows: pa.Table, as_of: datetime
) -> tuple[int, int]:
    """The book and reader Parquet sources of `repo` from `interactions` (over any items; read
    over the catalog) and the source's `rows` (for recency), stamped `as_of`; (books, readers).
    The text summary is the data dir's, so every repo projects the vectors the same way."""
    catalog = list(BookCatalog.load(settings.books_path))
    ids = [b.book_id for b in catalog]
    on_catalog = over_items(interactions, ids)
    repo.sources_dir.mkdir(parents=True, exist_ok=True)
    settings.features_dir.mkdir(parents=True, exist_ok=True)
    text = book_text(settings, ids, settings.features_dir / PCA_FILE)
    books = book_features(catalog, on_catalog, text, as_of)
    genres = genre_matrix([b.genres for b in catalog])
    recency = days_since_last(rows, on_catalog.users, as_of)
    readers = reader_features(on_catalog, genres, text, recency, as_of)
    _write(books, repo.sources_dir / BOOKS_FILE)
    _write(readers, repo.sources_dir / READERS_FILE)
    return len(books), len(readers)


def materialize(
    settings: Settings,
    repo: FeatureRepo,
    events_url: str,
    source: str,
    step: Callable[[str], None] = lambda _: None,
) -> MaterializeReport:
    """Compute the book and reader sources as of now, apply the repo and load the online store.

    `step` is told each stage's name as it starts.
    """
    started = time.perf_counter()
    as_of = datetime.now(UTC).replace(microsecond=0)
    step("reading interactions")
    source, rows = read_rows(settings, events_url, source)
    ids = [b.book_id for b in BookCatalog.load(settings.books_path)]
    step("computing features")
    books, readers = write_sources(settings, repo, Interactions.from_table(rows, ids), rows, as_of)
    step("loading the online store")
    store = repo.apply()
    store.materialize(start_date=as_of - timedelta(seconds=1), end_date=as_of + timedelta(seconds=1))
    return MaterializeReport(source, books, readers, as_of, time.perf_counter() - started)
