"""The Feast definitions, one place for training and serving: entities, feature views, request data."""

from __future__ import annotations

import hashlib
import inspect
from datetime import timedelta
from pathlib import Path

from feast import Entity, FeatureView, Field, FileSource, RequestSource, ValueType
from feast.feast_object import FeastObject
from feast.on_demand_feature_view import OnDemandFeatureView, on_demand_feature_view
from feast.types import Float64, Int64

from vibeshelf.recommend.features.pairs import pair_features

PROJECT = "vibeshelf"
TIMESTAMP = "event_timestamp"
BOOKS_VIEW = "books"
READERS_VIEW = "readers"
PAIRS_VIEW = "reader_book"
CANDIDATES = "candidates"
BOOKS_FILE = "books.parquet"
READERS_FILE = "readers.parquet"
# Top-level canonical genres (catalog.genres): a book's genres one-hot, a reader's shares.
GENRES: tuple[str, ...] = (
    "fantasy", "science fiction", "romance", "mystery", "thriller", "horror",
    "historical fiction", "literary fiction", "contemporary", "classics", "young adult",
    "children's", "nonfiction", "history", "biography", "memoir",
)
# Principal components of a book's document vector kept as its text summary.
TEXT_DIMS = 8


def slug(genre: str) -> str:
    """A genre as part of a feature name: "children's" -> "childrens", "young adult" -> "young_adult"."""
    return "".join(c for c in genre.replace(" ", "_") if c.isalnum() or c == "_")


GENRE_COLUMNS: tuple[str, ...] = tuple(f"genre_{slug(g)}" for g in GENRES)
TEXT_COLUMNS: tuple[str, ...] = tuple(f"text_{i}" for i in range(TEXT_DIMS))
TASTE_COLUMNS: tuple[str, ...] = tuple(f"taste_{i}" for i in range(TEXT_DIMS))
AFFINITY_COLUMNS: tuple[str, ...] = tuple(f"affinity_{slug(g)}" for g in GENRES)
BOOK_FLOATS: tuple[str, ...] = ("book_mean_rating", "book_catalog_rating", *TEXT_COLUMNS)
BOOK_INTS: tuple[str, ...] = ("book_readers", "book_year", "book_has_description", *GENRE_COLUMNS)
READER_FLOATS: tuple[str, ...] = (
    "reader_mean_rating", "reader_days_since_last", *AFFINITY_COLUMNS, *TASTE_COLUMNS,
)
READER_INTS: tuple[str, ...] = ("reader_history_size",)

book = Entity(name="book", join_keys=["item_id"], value_type=ValueType.STRING)
reader = Entity(name="reader", join_keys=["user_id"], value_type=ValueType.STRING)


def _fields(floats: tuple[str, ...], ints: tuple[str, ...]) -> list[Field]:
    return [Field(name=n, dtype=Float64) for n in floats] + [Field(name=n, dtype=Int64) for n in ints]


def score_column(source: str) -> str:
    """The request field of a source's score (the on-demand view outputs it as <source>_score)."""
    return f"score_{source}"


def rank_column(source: str) -> str:
    """The request field of a book's rank in a source's list (output as <source>_rank)."""
    return f"rank_{source}"


def pair_columns(sources: list[str]) -> list[str]:
    """The on-demand view's outputs: each source's score and rank, then cosine and genre overlap."""
    per_source = [c for s in sources for c in (f"{s}_score", f"{s}_rank")]
    return [*per_source, "sources_proposing", "taste_cosine", "genre_overlap"]


def view_objects(sources_dir: Path | str) -> list[FeastObject]:
    """The two entities and the book and reader views over Parquet files in `sources_dir`
    (relative paths resolve against the repo)."""
    books = FeatureView(
        name=BOOKS_VIEW,
        entities=[book],
        ttl=timedelta(0),  # no expiry: a book's features hold until the next materialize
        schema=_fields(BOOK_FLOATS, BOOK_INTS),
        source=FileSource(
            name=f"{BOOKS_VIEW}_source", path=f"{sources_dir}/{BOOKS_FILE}", timestamp_field=TIMESTAMP
        ),
        description="Catalog books: readers, ratings, year, genres, text summary, description.",
    )
    readers = FeatureView(
        name=READERS_VIEW,
        entities=[reader],
        ttl=timedelta(0),
        schema=_fields(READER_FLOATS, READER_INTS),
        source=FileSource(
            name=f"{READERS_VIEW}_source",
            path=f"{sources_dir}/{READERS_FILE}",
            timestamp_field=TIMESTAMP,
        ),
        description="Readers of the interactions source: history, ratings, genre shares, taste.",
    )
    return [book, reader, books, readers]


def feature_objects(sources_dir: Path | str, candidate_sources: list[str]) -> list[FeastObject]:
    """Every Feast object of the repo: `view_objects`, the candidates' request data and the
    on-demand reader x book view."""
    _, _, books, readers = stored = view_objects(sources_dir)
    candidates = RequestSource(
        name=CANDIDATES,
        schema=[
            Field(name=c, dtype=Float64)
            for s in candidate_sources
            for c in (score_column(s), rank_column(s))
        ],
    )
    pairs: OnDemandFeatureView = on_demand_feature_view(
        name=PAIRS_VIEW,
        sources=[books, readers, candidates],
        schema=[Field(name=c, dtype=Float64) for c in pair_columns(candidate_sources)],
        mode="pandas",
        description="Reader x book at request time: source scores and ranks, taste cosine, genres.",
    )(pair_features)
    return [*stored, candidates, pairs]


def feature_refs(candidate_sources: list[str]) -> list[str]:
    """`view:feature` references of every feature the ranker reads, in one fixed order."""
    views = (
        (BOOKS_VIEW, (*BOOK_INTS, *BOOK_FLOATS)),
        (READERS_VIEW, (*READER_INTS, *READER_FLOATS)),
        (PAIRS_VIEW, tuple(pair_columns(candidate_sources))),
    )
    return [f"{view}:{name}" for view, names in views for name in names]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def view_versions() -> dict[str, dict[str, object]]:
    """The views the ranker reads, each with its features and a version (a hash of its schema;
    of the on-demand function's source for the reader x book view): a ranker records them, and
    serving refuses one trained on other definitions."""
    views = {BOOKS_VIEW: (BOOK_INTS, BOOK_FLOATS), READERS_VIEW: (READER_INTS, READER_FLOATS)}
    out: dict[str, dict[str, object]] = {}
    for name, (ints, floats) in views.items():
        schema = [f"{n}:int64" for n in ints] + [f"{n}:float64" for n in floats]
        out[name] = {"features": [*ints, *floats], "version": _digest(f"{name}({','.join(schema)})")}
    source = inspect.getsource(pair_features)
    out[PAIRS_VIEW] = {"function": pair_features.__name__, "version": _digest(source)}
    return out
