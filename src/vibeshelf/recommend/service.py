"""The recommendation service: who the reader is, which source answers, and why each book is there."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from vibeshelf.recommend.answer_cache import AnswerCache, answer_key
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.neighbours import Content, ItemItem
from vibeshelf.recommend.schemas import (
    BookOut,
    EventRequest,
    RecommendedBook,
    RecommendRequest,
    RecommendResponse,
    SimilarBook,
    SimilarResponse,
)
from vibeshelf.recommend.sources import (
    Als,
    Candidate,
    CandidateSource,
    FoldIn,
    Popularity,
    Profile,
)
from vibeshelf.recommend.storage.base import SCHEMA, InteractionStore
from vibeshelf.recommend.two_stage_answer import (
    NoRankerError,
    TwoStage,
    pipeline_report,
    reader_kind,
    two_stage_books,
    two_stage_profile,
)
from vibeshelf.storage.cache_backoff import CacheObserver
from vibeshelf.storage.errors import StorageError

log = logging.getLogger(__name__)

STAR_SCALE = 5.0
SHOWN_GENRES = 6
SHOWN_SHARED = 3


class UnknownBooksError(LookupError):
    """Book ids the model does not know."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"unknown book id(s): {', '.join(ids[:10])}")
        self.ids = ids


class RecommendService:
    """Answers recommend, more-like-this and event requests from one loaded model."""

    def __init__(
        self, model: RecsModel, store: InteractionStore, content: Content | None = None,
        cache: AnswerCache | None = None, observer: CacheObserver | None = None,
        two_stage: TwoStage | None = None, default_pipeline: str = "als",
    ) -> None:
        self.model = model
        self.store = store
        self.content = content
        self.cache = cache
        self.observer = observer
        self.two_stage = two_stage
        self.default_pipeline = default_pipeline
        self.source = str(model.metadata["source"])
        self.als = Als(model)
        self.fold_in = FoldIn(model)
        self.popular = Popularity(model)
        self.item_item = ItemItem(model)
        model.warm()

    # ---- /api/recommend --------------------------------------------------------------------
    def recommend(self, request: RecommendRequest) -> RecommendResponse:
        """ALS for a model user; a fold-in for liked books or events newer than the model; else
        popular. Answered from the cache when one was made from the same inputs."""
        started = time.perf_counter()
        self._require_known(request.liked)
        history = self.store.history(self.source, request.user_id) if request.user_id else []
        # A reader the model does not know, with no history, gets what every such reader gets.
        known = request.user_id in self.model.user_index or bool(history)
        pipeline = request.pipeline or self.default_pipeline
        if pipeline == "two-stage" and self.two_stage is None:
            raise NoRankerError()
        key = answer_key(
            self.model.version, request.user_id if known else None, request.liked, history,
            request.cutoff, pipeline, request.debug,
        )
        cached = self._cached(key)
        if cached is not None:
            return cached.model_copy(update={
                "request_id": uuid.uuid4().hex, "cached": True,
                "took_ms": round((time.perf_counter() - started) * 1000, 2),
            })
        profile = (two_stage_profile(self.model, request.user_id, request.liked, history)
                   if pipeline == "two-stage" else None)  # the ALS chain needs none
        try:
            answer = self._two_stage(request, profile, started) if profile is not None else None
        except StorageError as exc:  # the online feature store is down: ALS answers, uncached
            log.warning("two-stage failed, answered by ALS: %s", exc)
            return self._recommend(request, history, started)
        answer = answer or self._recommend(request, history, started)
        if self.cache is not None:
            self.cache.put(key, answer)
        return answer

    def _recommend(
        self, request: RecommendRequest, history: list[str], started: float
    ) -> RecommendResponse:
        profile = Profile(
            user_id=request.user_id,
            liked=tuple(dict.fromkeys([*request.liked, *history])),
            seen=frozenset(history),
        )
        chain: list[CandidateSource] = (
            [self.fold_in]
            if request.liked or self._has_news(request.user_id, history)
            else [self.als, self.fold_in]
        )
        result = next(
            (r for r in (s.personalised(profile, request.cutoff) for s in chain) if r is not None),
            None,
        ) or self.popular.recommend(profile, request.cutoff)
        liked = set(request.liked)
        return RecommendResponse(
            request_id=uuid.uuid4().hex,
            model_version=self.model.version,
            strategy=result.strategy,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            recommendations=[
                RecommendedBook(
                    **self._book(c.item_id),
                    score=round(c.score, 4),
                    reason=self._reason(result.strategy, c, liked),
                )
                for c in result.candidates
            ],
        )

    # ---- /api/books/{id}/similar ---------------------------------------------------------------
    def similar(self, book_id: str, limit: int) -> SimilarResponse:
        """Neighbours by readers' behaviour (item-item CF) and by text (content), interleaved."""
        self._require_known([book_id])
        profile = Profile(liked=(book_id,))
        lists = [
            s.personalised(profile, limit) for s in (self.item_item, self.content) if s is not None
        ]
        merged: dict[str, SimilarBook] = {}
        for rank in range(limit):
            for result in lists:
                if result is not None and rank < len(result.candidates):
                    c = result.candidates[rank]
                    merged.setdefault(
                        c.item_id,
                        SimilarBook(
                            **self._book(c.item_id),
                            score=round(c.score, 4),
                            reason=self._reason(result.strategy, c, set()),
                            source=result.strategy,
                        ),
                    )
        return SimilarResponse(
            request_id=uuid.uuid4().hex,
            model_version=self.model.version,
            book=BookOut(**self._book(book_id)),
            similar=list(merged.values())[:limit],
        )

    # ---- /api/events -------------------------------------------------------------------------
    def record(self, event: EventRequest) -> int:
        """Store a reader's event; the next recommendation excludes the book and folds it in."""
        self._require_known([event.book_id])
        strength = (
            event.rating / STAR_SCALE if event.rating else (1.0 if event.event == "like" else None)
        )
        row = {
            "user_id": event.user_id,
            "item_id": event.book_id,
            "rating": event.rating,
            "strength": strength,
            "event": event.event,
            "ts": datetime.now(UTC).replace(tzinfo=None),
        }
        return self.store.append(self.source, pa.Table.from_pylist([row], schema=SCHEMA))

    def health(self) -> dict[str, Any]:
        counts = self.model.metadata.get("counts", {})
        return {
            "model_version": self.model.version,
            "source": self.source,
            "users": counts.get("users"),
            "items": counts.get("items"),
            "content": self.content is not None,
            "ranker": self.two_stage.ranker_version if self.two_stage else None,
        }

    def close(self) -> None:
        self.store.close()
        if self.cache is not None:
            self.cache.close()

    def _two_stage(
        self, request: RecommendRequest, profile: Profile, started: float
    ) -> RecommendResponse:
        assert self.two_stage is not None
        result = self.two_stage.pipeline(profile, request.cutoff)
        reader = reader_kind(self.model, profile, request.liked)
        if self.two_stage.observer is not None:
            self.two_stage.observer.pipeline_ran(result.timings_ms, result.counts, len(result.relaxations))
        return RecommendResponse(
            request_id=uuid.uuid4().hex,
            model_version=self.model.version,
            strategy="two-stage",
            pipeline="two-stage",
            two_stage=pipeline_report(self.two_stage, reader, result, request.debug),
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            recommendations=two_stage_books(
                result, self._book, lambda ids: self._closest_read(profile, ids)
            ),
        )

    # ---- helpers -----------------------------------------------------------------------------
    def _closest_read(self, profile: Profile, item_ids: list[str]) -> list[str]:
        """For each book, "because you read" (or liked) the reader's book with the most similar
        factors."""
        anchors = self.als.anchors(profile)
        items = np.array([self.model.item_index[i] for i in item_ids], dtype=np.int64)
        closest = self.als.explain(items, anchors)
        ids = self.model.items.ids
        return [
            self._popular_reason(item) if c < 0
            else f"because you {self._verb(profile, ids[c])} {self._title(ids[c])}"
            for item, c in zip(item_ids, closest, strict=True)
        ]

    @staticmethod
    def _verb(profile: Profile, item_id: str) -> str:
        return "liked" if item_id in profile.liked and item_id not in profile.seen else "read"

    def _cached(self, key: str) -> RecommendResponse | None:
        if self.cache is None:
            return None
        found = self.cache.get(key)
        if self.observer is not None:
            self.observer.cache_lookup(self.cache.layer, int(found is not None), int(found is None))
        return found

    def _has_news(self, user_id: str | None, history: list[str]) -> bool:
        """Whether a model user has since interacted with books the model did not train on."""
        user = self.model.user_index.get(user_id) if user_id is not None else None
        if user is None:
            return False
        trained = {self.model.items.ids[i] for i in self.model.user_items(user)}
        return any(item not in trained for item in history)

    def _require_known(self, book_ids: list[str]) -> None:
        unknown = [b for b in book_ids if b not in self.model.item_index]
        if unknown:
            raise UnknownBooksError(unknown)

    def _book(self, item_id: str) -> dict[str, Any]:
        items, i = self.model.items, self.model.item_index[item_id]
        return {
            "book_id": item_id,
            "title": items.titles[i],
            "authors": items.authors[i],
            "genres": items.genres[i][:SHOWN_GENRES],
        }

    def _title(self, item_id: str) -> str:
        return self.model.items.titles[self.model.item_index[item_id]]

    def _popular_reason(self, item_id: str) -> str:
        readers = int(self.model.counts[self.model.item_index[item_id]])
        return f"popular: read by {readers:,} readers" if readers else "popular with readers"

    def _reason(self, strategy: str, candidate: Candidate, liked: set[str]) -> str:
        because = candidate.because
        if strategy == "popular" or because is None:
            return self._popular_reason(candidate.item_id)
        if strategy == "content":
            if candidate.shared:
                return "similar shelves: " + ", ".join(candidate.shared[:SHOWN_SHARED])
            return f"reads like {self._title(because)}"
        if strategy == "item-item":
            if self.model.counts[self.model.item_index[because]]:
                return f"readers of {self._title(because)} also liked"
            return f"readers of books shelved like {self._title(because)} liked"
        verb = "liked" if because in liked else "read"
        return f"because you {verb} {self._title(because)}"
