"""The service behind /api/recommend passes the recommender contract, on a real SQLite store.

The adapter turns a contract Profile into what the API gives the service: the user id and liked
books become the request, and seen books become events stored through `RecommendService.record`
(as POST /api/events does), so the exclusion under test is the service's own, read back from the
store. The store holds the model's training source, as a served store does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pyarrow as pa
import pytest

from tests.cache_observer import CountingObserver
from tests.contracts.recommender import (
    RecommenderContract,
    active_reader,
)
from tests.redis_server import redis_server
from vibeshelf.catalog.books import BookCatalog
from vibeshelf.recommend.answer_cache import MemoryAnswers, RedisAnswers
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.schemas import EventRequest, RecommendRequest, RecommendResponse
from vibeshelf.recommend.service import RecommendService
from vibeshelf.recommend.sources import Candidate, Profile, Recommendation
from vibeshelf.recommend.storage.base import InteractionStore, SourceInfo
from vibeshelf.recommend.storage.sqlite import SqliteStore
from vibeshelf.recommend.two_stage_answer import TwoStage
from vibeshelf.recommend.twostage.served_features import FeatureStoreUnavailableError
from vibeshelf.settings import Settings

SEEN_EVENT = "read"


@pytest.fixture(scope="module")
def training_rows(recs_dir: Path, recs_model: RecsModel) -> tuple[SourceInfo, pa.Table]:
    """The model's training source, as ingested into the built data dir's store."""
    store = SqliteStore(recs_dir / "events.sqlite3")
    try:
        info = store.source(str(recs_model.metadata["source"]))
        return info, store.read(info.name)
    finally:
        store.close()


@pytest.fixture
def store(
    tmp_path: Path, training_rows: tuple[SourceInfo, pa.Table]
) -> Iterator[InteractionStore]:
    """A fresh SQLite store per test holding the training source: events stay in their test."""
    store = SqliteStore(tmp_path / "events.sqlite3")
    store.replace_source(*training_rows)
    yield store
    store.close()


class ServiceSource:
    """A RecommendService answering contract Profiles the way the API would."""

    strategy = "als"

    def __init__(self, service: RecommendService) -> None:
        self.service = service

    def recommend(self, profile: Profile, n: int) -> Recommendation:
        self._record_seen(profile)
        # The API refuses cutoff 0 (422); the service itself must answer it with no books.
        request = RecommendRequest(user_id=profile.user_id, liked=list(profile.liked)).model_copy(
            update={"cutoff": n}
        )
        response = self.service.recommend(request)
        return Recommendation(
            response.strategy,
            [Candidate(b.book_id, b.score) for b in response.recommendations],
        )

    def _record_seen(self, profile: Profile) -> None:
        """Store each seen book not yet in the reader's history as an event, as /api/events does."""
        if not profile.seen:
            return
        assert profile.user_id is not None, "seen books are stored per reader"
        stored = set(self.service.store.history(self.service.source, profile.user_id))
        for book_id in sorted(profile.seen - stored):
            self.service.record(
                EventRequest(user_id=profile.user_id, book_id=book_id, event=SEEN_EVENT)
            )


class TestRecommendService(RecommenderContract):
    """A model reader gets ALS, new events fold in, a stranger gets popular (fold-in once seen)."""

    stranger_with_history: ClassVar[str] = "fold-in"

    @pytest.fixture(autouse=True)
    def _store(self, store: InteractionStore) -> None:
        self.store = store

    def make_source(self, model: RecsModel) -> ServiceSource:  # type: ignore[override]
        return ServiceSource(RecommendService(model, self.store))


def test_seen_events_switch_a_model_reader_to_fold_in_over_their_whole_history(
    recs_model: RecsModel, store: InteractionStore
) -> None:
    """A model reader's new events are excluded and folded in with their stored history."""
    reader = active_reader(recs_model, min_items=5)
    source = ServiceSource(RecommendService(recs_model, store))
    first = source.recommend(Profile(user_id=reader), 10)
    top = {c.item_id for c in first.candidates[:2]}
    after = source.recommend(Profile(user_id=reader, seen=frozenset(top)), 10)
    assert (first.strategy, after.strategy) == ("als", "fold-in")
    rows = recs_model.user_items(recs_model.user_index[reader])
    trained = {recs_model.items.ids[i] for i in rows}
    assert set(store.history(source.service.source, reader)) == trained | top
    assert not {c.item_id for c in after.candidates} & (trained | top)


class TestCachedRecommendService(TestRecommendService):
    """The same contract with the in-process answer cache on."""

    def make_source(self, model: RecsModel) -> ServiceSource:  # type: ignore[override]
        return ServiceSource(RecommendService(model, self.store, cache=MemoryAnswers(100, 60)))


def ask(service: RecommendService, reader: str) -> RecommendResponse:
    return service.recommend(RecommendRequest(user_id=reader, cutoff=10))


def ids(answer: RecommendResponse) -> list[str]:
    return [book.book_id for book in answer.recommendations]


def test_a_repeated_request_is_answered_from_the_cache_until_the_reader_acts(
    recs_model: RecsModel, store: InteractionStore
) -> None:
    observer = CountingObserver()
    service = RecommendService(recs_model, store, cache=MemoryAnswers(100, 60), observer=observer)
    reader = active_reader(recs_model)
    first, second = ask(service, reader), ask(service, reader)
    assert (first.cached, second.cached) == (False, True)
    assert ids(first) == ids(second) and first.request_id != second.request_id
    service.record(EventRequest(user_id=reader, book_id=ids(first)[0], event=SEEN_EVENT))
    third = ask(service, reader)
    assert third.cached is False and ids(first)[0] not in ids(third)
    assert observer.lookups == {("memory", "hit"): 1, ("memory", "miss"): 2}


def test_workers_share_answers_through_redis_and_an_event_reaches_every_worker(
    recs_model: RecsModel, store: InteractionStore, tmp_path: Path
) -> None:
    """Two services on one store and one Redis, as two workers are: an answer made by one is a hit
    for the other, and an event stored through either changes both workers' next answer."""
    with redis_server(tmp_path) as url:
        workers = [RecommendService(recs_model, store, cache=RedisAnswers(url, 60, 0.5)) for _ in "ab"]
        reader = active_reader(recs_model)
        made, reused = ask(workers[0], reader), ask(workers[1], reader)
        assert (made.cached, reused.cached) == (False, True) and ids(made) == ids(reused)
        workers[1].record(EventRequest(user_id=reader, book_id=ids(made)[0], event=SEEN_EVENT))
        after = ask(workers[0], reader)
        assert after.cached is False and ids(made)[0] not in ids(after)
        assert ask(workers[1], reader).cached is True
        for worker in workers:
            assert worker.cache is not None
            worker.cache.close()


def test_a_redis_outage_turns_hits_into_misses(
    recs_model: RecsModel, store: InteractionStore, tmp_path: Path
) -> None:
    observer = CountingObserver()
    reader = active_reader(recs_model)
    with redis_server(tmp_path) as url:
        cache = RedisAnswers(url, 60, 0.2, observer=observer)
        service = RecommendService(recs_model, store, cache=cache, observer=observer)
        expected = ids(ask(service, reader))
        assert ask(service, reader).cached is True
    down = ask(service, reader)  # the server is gone: a miss, answered all the same
    assert down.cached is False and ids(down) == expected
    assert observer.errors["redis"] >= 1
    cache.close()


def test_recommended_books_show_the_catalogs_canonical_genres(
    recs_model: RecsModel, recs_dir: Path, store: InteractionStore
) -> None:
    """Each book lists its canonical genres from the catalog, not its readers' shelves."""
    catalog = {b.book_id: b for b in BookCatalog.load(Settings(data_dir=recs_dir).books_path)}
    service = RecommendService(recs_model, store)
    response = service.recommend(RecommendRequest(liked=["2"], cutoff=10))
    assert response.recommendations
    shown = [(book.genres, catalog[book.book_id]) for book in response.recommendations]
    for genres, entry in shown:
        assert genres == entry.genres[:6] and genres, entry.book_id
    assert any(genres != entry.shelves[: len(genres)] for genres, entry in shown)


class UnreachableFeatures:
    """A two-stage pipeline whose online feature store is down, as `StoreFeatures` reports it."""

    def __call__(self, profile: Profile, k: int) -> None:
        raise FeatureStoreUnavailableError("the online feature store failed: connection refused")


def test_a_feature_store_outage_is_answered_by_als_and_not_cached(
    recs_model: RecsModel, store: InteractionStore
) -> None:
    two_stage = TwoStage(UnreachableFeatures(), "ranker-x")  # type: ignore[arg-type]
    service = RecommendService(
        recs_model, store, cache=MemoryAnswers(100, 60), two_stage=two_stage,
        default_pipeline="two-stage",
    )
    request = RecommendRequest(user_id=active_reader(recs_model))
    first = service.recommend(request)
    assert (first.pipeline, first.strategy) == ("als", "als") and len(first.recommendations) == 10
    assert not service.recommend(request).cached
