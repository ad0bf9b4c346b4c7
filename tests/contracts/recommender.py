"""The behaviour every recommender / candidate source must show, and the real-data model it runs on.

Subclass RecommenderContract, define `make_source(model)` (and `personal_profile(model, reader)`
for a source that knows a reader by their books rather than their user id), and provide the `recs_model` and `catalog_ids` fixtures (a trained RecsModel whose items are the
catalog's books, and the catalog's book ids).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from vibeshelf.catalog.goodbooks import ingest_goodbooks
from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.interactions.bookcrossing import ingest_book_crossing
from vibeshelf.recommend.sources import CandidateSource, Popularity, Profile
from vibeshelf.recommend.storage.sqlite import SqliteStore
from vibeshelf.recommend.training import train_recs
from vibeshelf.settings import Settings

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
# Small and quick, but trained on every catalog-linked Book-Crossing rating.
TEST_RECS = RecommendSettings(factors=16, iterations=6, seed=7)
N = 10


def recs_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the goodbooks catalog, Book-Crossing interactions and a trained model.

    Built once per test session (a marker file tells later callers it is complete).
    """
    data_dir = tmp_path_factory.getbasetemp() / "recs-data"
    marker = data_dir / ".complete"
    if marker.is_file():
        return data_dir
    settings = Settings(data_dir=data_dir)
    ingest_goodbooks(SHARED_DATA, settings.books_path)
    store = SqliteStore(data_dir / "events.sqlite3")
    try:
        ingest_book_crossing(SHARED_DATA, store, settings.books_path)
    finally:
        store.close()
    train_recs(settings, TEST_RECS, evaluate=False)
    marker.touch()
    return data_dir


def active_reader(model: RecsModel, min_items: int = 5) -> str:
    """The first model user with at least `min_items` training items."""
    counts = np.diff(model.seen.indptr)
    return model.users[int(np.flatnonzero(counts >= min_items)[0])]


class RecommenderContract:
    """Shared behavioural tests for every CandidateSource."""

    # The strategy for a reader unknown to the model who has seen books: a source falls back to
    # popularity; a recommender that keeps seen books as stored events folds them in.
    stranger_with_history: ClassVar[str] = "popular"

    def make_source(self, model: RecsModel) -> CandidateSource:
        raise NotImplementedError

    def personal_profile(self, model: RecsModel, reader: str) -> Profile:
        """The profile a source personalises for `reader`: by default their user id."""
        return Profile(user_id=reader)

    @pytest.fixture
    def source(self, recs_model: RecsModel) -> CandidateSource:
        return self.make_source(recs_model)

    @pytest.fixture
    def profile(self, recs_model: RecsModel) -> Profile:
        return self.personal_profile(recs_model, active_reader(recs_model))

    def _forbidden(self, model: RecsModel, profile: Profile) -> set[str]:
        forbidden = set(profile.seen) | set(profile.liked)
        if profile.user_id in model.user_index:
            user = model.user_index[profile.user_id]
            forbidden |= {model.items.ids[i] for i in model.user_items(user)}
        return forbidden

    def test_personalises_with_its_own_strategy(
        self, source: CandidateSource, profile: Profile
    ) -> None:
        result = source.recommend(profile, N)
        assert result.strategy == source.strategy
        assert len(result.candidates) == N

    def test_never_returns_seen_or_liked_items(
        self, source: CandidateSource, profile: Profile, recs_model: RecsModel
    ) -> None:
        first = [c.item_id for c in source.recommend(profile, N).candidates]
        marked = Profile(profile.user_id, profile.liked, profile.seen | set(first[:5]))
        again = [c.item_id for c in source.recommend(marked, N).candidates]
        assert not set(first) & self._forbidden(recs_model, profile)
        assert not set(again) & self._forbidden(recs_model, marked)
        assert len(again) == N

    def test_scores_in_unit_interval_best_first(
        self, source: CandidateSource, profile: Profile
    ) -> None:
        scores = [c.score for c in source.recommend(profile, N).candidates]
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)

    def test_order_is_deterministic(
        self, source: CandidateSource, profile: Profile, recs_model: RecsModel
    ) -> None:
        first = source.recommend(profile, N)
        assert source.recommend(profile, N) == first
        assert self.make_source(recs_model).recommend(profile, N) == first

    def test_unknown_user_gets_the_popularity_fallback(
        self, source: CandidateSource, recs_model: RecsModel
    ) -> None:
        for stranger in (Profile(user_id="no-such-reader"), Profile()):
            result = source.recommend(stranger, N)
            assert result.strategy == "popular"
            assert len(result.candidates) == N
            counts = [
                recs_model.counts[recs_model.item_index[c.item_id]] for c in result.candidates
            ]
            assert counts == sorted(counts, reverse=True)

    def test_an_unknown_users_seen_items_never_come_back(
        self, source: CandidateSource, recs_model: RecsModel
    ) -> None:
        """The most read books, seen by a reader the model does not know, are left out."""
        most_read = [c.item_id for c in Popularity(recs_model).recommend(Profile(), 3).candidates]
        stranger = Profile(user_id="no-such-reader-with-history", seen=frozenset(most_read))
        result = source.recommend(stranger, N)
        assert result.strategy == self.stranger_with_history
        assert len(result.candidates) == N
        assert not {c.item_id for c in result.candidates} & stranger.seen

    def test_ids_exist_in_the_catalog(
        self,
        source: CandidateSource,
        profile: Profile,
        recs_model: RecsModel,
        catalog_ids: set[str],
    ) -> None:
        ids = [c.item_id for c in source.recommend(profile, N).candidates]
        assert ids and set(ids) <= catalog_ids
        assert len(set(ids)) == len(ids)

    def test_cutoff_is_respected(self, source: CandidateSource, profile: Profile) -> None:
        assert len(source.recommend(profile, 1).candidates) == 1
        assert source.recommend(profile, 0).candidates == []


def liked_profile(model: RecsModel, reader: str, most: int | None = None) -> Profile:
    """A profile of the (first `most`) books `reader` interacted with, without their user id."""
    liked = model.user_items(model.user_index[reader])[:most]
    return Profile(liked=tuple(model.items.ids[i] for i in liked))
