"""Two-stage ranking settings: the LightGBM ranker, the business rules and the boosts (lists by `kind`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

Delta = Annotated[float, Field(gt=0.0, le=0.5)]


class MaxPerGenre(BaseModel):
    """At most `limit` books of one canonical genre (a book's first, most specific) in the top `window`."""

    kind: Literal["max_per_genre"] = "max_per_genre"
    limit: Annotated[int, Field(ge=1, le=50)] = 3
    window: Annotated[int, Field(ge=1, le=100)] = 5


class ExcludeRead(BaseModel):
    """Never a book the reader has read, nor a box set or omnibus of a series they have read from."""

    kind: Literal["exclude_read"] = "exclude_read"


class SeriesOrder(BaseModel):
    """A series' books in the list keep their places, refilled in reading order (#1 before #2)."""

    kind: Literal["series_order"] = "series_order"


class Language(BaseModel):
    """Only books in one of `languages` (catalog codes, e.g. "eng"); books of unknown language pass."""

    kind: Literal["language"] = "language"
    languages: Annotated[list[str], Field(min_length=1)]


class MinRating(BaseModel):
    """Only books whose catalog mean rating is at least `rating` (unrated books pass)."""

    kind: Literal["min_rating"] = "min_rating"
    rating: Annotated[float, Field(ge=0.0, le=5.0)]


RuleSettings = Annotated[
    MaxPerGenre | ExcludeRead | SeriesOrder | Language | MinRating, Field(discriminator="kind")
]


class PromotedBoost(BaseModel):
    """Books listed (one id a line) in `file`, a path relative to the data dir."""

    kind: Literal["promoted"] = "promoted"
    file: str = "promoted.txt"
    delta: Delta = 0.1


class RecentBoost(BaseModel):
    """Books published in `since` or later."""

    kind: Literal["recent"] = "recent"
    since: Annotated[int, Field(ge=0, le=3000)] = 2010
    delta: Delta = 0.05


class DescriptionBoost(BaseModel):
    """Books with a description, for readers with at most `max_history` books (thin lists)."""

    kind: Literal["has_description"] = "has_description"
    max_history: Annotated[int, Field(ge=0, le=1000)] = 5
    delta: Delta = 0.05


BoostSettings = Annotated[
    PromotedBoost | RecentBoost | DescriptionBoost, Field(discriminator="kind")
]


class RankerParams(BaseModel):
    """LightGBM LambdaRank hyper-parameters (fixed, not tuned on evaluation readers)."""

    num_leaves: Annotated[int, Field(ge=2, le=1024)] = 31
    learning_rate: Annotated[float, Field(gt=0.0, le=1.0)] = 0.05
    n_estimators: Annotated[int, Field(ge=1, le=5000)] = 300
    min_child_samples: Annotated[int, Field(ge=1, le=10_000)] = 50
    early_stopping_rounds: Annotated[int, Field(ge=1, le=500)] = 30


def default_rules() -> list[RuleSettings]:
    """No book the reader has read; a series in reading order; at most 3 of one genre in the top 5."""
    return [ExcludeRead(), SeriesOrder(), MaxPerGenre()]


class RankingSettings(BaseModel):
    """The second stage: candidates per source, the ranker, then boosts and rules on its list."""

    # What /api/recommend runs when a request names no `pipeline`: "two-stage" (with a ranker
    # trained by `vibeshelf train ranker`; ALS when none is loaded) or "als" (the ALS / fold-in /
    # popular chain).
    pipeline: Literal["als", "two-stage"] = "two-stage"
    # Candidates come from `recommend.retrieval` (its sources, how many each, the merged total);
    # item-item reads each book's `neighbours` most similar books, listed once per loaded model.
    neighbours: Annotated[int, Field(ge=10, le=2000)] = 100
    # Books the two-tower source adds to the candidates (0: off; needs `vibeshelf train two-tower`).
    two_tower: Annotated[int, Field(ge=0, le=2000)] = 0
    # Books proposed by the co-reads of `co_reads_source`, another interactions source over the
    # same catalog (0: off). Skipped where the model was trained on that source or it is missing.
    co_reads: Annotated[int, Field(ge=0, le=2000)] = 200
    co_reads_source: Annotated[str, Field(min_length=1, max_length=100)] = "goodbooks"
    ranker: RankerParams = RankerParams()
    rules: list[RuleSettings] = Field(default_factory=default_rules)
    boosts: list[BoostSettings] = Field(default_factory=list)
    train_readers: Annotated[int, Field(ge=10, le=1_000_000)] = 5000
    eval_readers: Annotated[int, Field(ge=10, le=1_000_000)] = 5000
    keep_versions: Annotated[int, Field(ge=1, le=50)] = 5
