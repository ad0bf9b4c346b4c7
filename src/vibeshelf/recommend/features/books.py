"""Book features: readers, ratings, year, top-level genres, text summary and description present."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from vibeshelf.catalog.books import Book
from vibeshelf.recommend.dataset import Interactions
from vibeshelf.recommend.features.definitions import GENRE_COLUMNS, GENRES, TEXT_COLUMNS, TIMESTAMP


def genre_matrix(genres: Sequence[Sequence[str] | None]) -> np.ndarray:
    """Books x GENRES, 1 where the book has that canonical genre."""
    column = {g: j for j, g in enumerate(GENRES)}
    matrix = np.zeros((len(genres), len(GENRES)), np.int64)
    for i, names in enumerate(genres):
        for name in names or ():
            if name in column:
                matrix[i, column[name]] = 1
    return matrix


def has_blurb(book: Book) -> bool:
    """A description that is not a language model's summary."""
    return bool((book.description or "").strip()) and book.description_source != "generated"


def rating_means(strengths: np.ndarray, groups: np.ndarray, size: int) -> np.ndarray:
    """Mean of the rated (non-NaN) strengths per group index, 0 where a group has none."""
    rated = ~np.isnan(strengths)
    totals = np.bincount(groups[rated], weights=strengths[rated], minlength=size)
    counts = np.bincount(groups[rated], minlength=size)
    return np.divide(totals, counts, out=np.zeros(size), where=counts > 0)


def book_features(
    catalog: Sequence[Book], interactions: Interactions, text: np.ndarray, as_of: datetime
) -> pd.DataFrame:
    """One row per catalog book; `interactions` are over the catalog's ids in catalog order and
    `text` is row-aligned with the catalog (zeros where a book has no vector)."""
    m = interactions.strengths.tocsc()
    columns = np.repeat(np.arange(m.shape[1]), np.diff(m.indptr))
    frame = pd.DataFrame({
        "item_id": [b.book_id for b in catalog],
        "book_readers": np.diff(m.indptr).astype(np.int64),
        "book_year": np.array([b.year or 0 for b in catalog], np.int64),
        "book_has_description": np.array([int(has_blurb(b)) for b in catalog], np.int64),
        "book_mean_rating": rating_means(m.data, columns, m.shape[1]),
        "book_catalog_rating": np.array([b.average_rating or 0.0 for b in catalog], np.float64),
    })
    frame[list(GENRE_COLUMNS)] = genre_matrix([b.genres for b in catalog])
    frame[list(TEXT_COLUMNS)] = text
    frame[TIMESTAMP] = pd.Timestamp(as_of)
    return frame
