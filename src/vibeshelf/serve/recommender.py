"""Loading the recommendation service a serving process holds."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache as read_once

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.embed.vectors import load_embeddings
from vibeshelf.index.base import VectorStore
from vibeshelf.index.factory import open_store
from vibeshelf.recommend.answer_cache import open_answer_cache
from vibeshelf.recommend.artifacts import ModelNotFoundError, RecsModel, load_model, recs_root
from vibeshelf.recommend.items import fill_catalog_genres
from vibeshelf.recommend.neighbours import Content, vector_lookup
from vibeshelf.recommend.retrieval import SourceContext
from vibeshelf.recommend.service import RecommendService
from vibeshelf.recommend.sources import Profile
from vibeshelf.recommend.storage.factory import open_interactions
from vibeshelf.recommend.two_stage_answer import PipelineObserver, TwoStage
from vibeshelf.settings import Settings
from vibeshelf.storage.cache_backoff import CacheObserver
from vibeshelf.storage.errors import StorageError, StoreError

log = logging.getLogger(__name__)


def load_recommender(
    settings: Settings, vector_store: VectorStore | None = None, version: str | None = None,
    cache_observer: CacheObserver | None = None, pipeline_observer: PipelineObserver | None = None,
    pipeline: str | None = None,
) -> RecommendService | None:
    """The service for model `version` (default: the current one), or None (logged) when missing.

    Content similarity uses `vector_store` (the served search index; opened from settings when not
    given) with the book vectors from `vibeshelf embed`; without them more-like-this is CF only.
    Answers are cached as `recommend.cache_url` says, lookups counted by `cache_observer`; with
    a ranker trained (`vibeshelf train ranker`), the two-stage pipeline answers too. `pipeline`
    (default `recommend.ranking.pipeline`) is what a request naming none gets; the settings'
    "two-stage" falls back to ALS without a ranker (LightGBM and pandas not installed, or none
    trained), a `pipeline="two-stage"` given here loads nothing then (None, logged).
    """
    rec = settings.recommend
    try:
        model = load_model(recs_root(settings), version)
    except ModelNotFoundError as exc:
        log.warning("recommendations disabled: %s", exc)
        return None
    catalog = read_once(lambda: BookCatalog.load(settings.books_path))
    catalog_model = model.metadata["item_space"] == "catalog"
    if catalog_model and not any(model.items.genres) and settings.books_path.is_file():
        fill_catalog_genres(model.items, catalog())
        log.info("model %s has no canonical genres: read from the catalog", model.version)
    store = open_interactions(rec.events_url, settings.data_dir)
    content = _content_source(settings, model, vector_store) if catalog_model else None
    log.info(
        "recommender model %s (%s), content similarity %s",
        model.version,
        model.metadata["source"],
        "on" if content else "off",
    )
    two_stage = _two_stage(settings, model, content, pipeline_observer, catalog)
    default = pipeline or rec.ranking.pipeline
    if default == "two-stage" and two_stage is None:
        if pipeline is not None:  # a version that is the two-stage pipeline cannot run without it
            log.warning("recommendations by two-stage disabled: no ranker loaded")
            store.close()
            return None
        log.info("recommendations by ALS: no two-stage ranker loaded")
        default = "als"
    cache = open_answer_cache(rec, cache_observer)
    return RecommendService(model, store, content, cache, cache_observer, two_stage, default)


def _two_stage(
    settings: Settings, model: RecsModel, content: Content | None,
    observer: PipelineObserver | None, catalog: Callable[[], BookCatalog],
) -> TwoStage | None:
    """The two-stage pipeline over `model` with the current ranker, or None (logged) without one.

    Its candidates come from the sources the ranker was trained with (`recommend.retrieval`, the
    two-tower source when enabled, co-reads of another source of the catalog), liked-vectors
    through the served vector store; `catalog` gives the books' facts."""
    rec = settings.recommend
    ranking = rec.ranking
    try:
        from vibeshelf.recommend.features.definitions import view_versions
        from vibeshelf.recommend.features.repo import FeatureRepo
        from vibeshelf.recommend.twostage.books import book_facts
        from vibeshelf.recommend.twostage.boosts import make_boosts
        from vibeshelf.recommend.twostage.candidates import candidate_stage
        from vibeshelf.recommend.twostage.extra_sources import added_sources
        from vibeshelf.recommend.twostage.features import FEATURES_VERSION
        from vibeshelf.recommend.twostage.pipeline import TwoStagePipeline
        from vibeshelf.recommend.twostage.ranker import load_ranker
        from vibeshelf.recommend.twostage.ranker_record import ranker_root
        from vibeshelf.recommend.twostage.reader import RequestHistory
        from vibeshelf.recommend.twostage.rules import make_rules
        from vibeshelf.recommend.twostage.served_features import StoreFeatures
    except ImportError as exc:  # the `ranker` extra (LightGBM, pandas) is not installed
        log.info("two-stage recommendations off: %s", exc)
        return None
    try:
        ranker = load_ranker(ranker_root(settings))
    except FileNotFoundError as exc:
        log.info("two-stage recommendations off: %s", exc)
        return None
    trained = (ranker.metadata.get("features_version"), ranker.metadata.get("feature_views"))
    if trained != (FEATURES_VERSION, view_versions()):
        log.warning(
            "two-stage recommendations off: ranker %s has features %s, this code builds %s: "
            "run `vibeshelf train ranker`", ranker.version, trained[0], FEATURES_VERSION,
        )
        return None
    context = SourceContext(
        model,
        content.store if content else None,
        content.vector_of if content else None,
        anchors=rec.retrieval.anchors,
    )
    extra = added_sources(settings, rec, model, model.metadata["source"], model.metadata["item_space"])
    stage = candidate_stage(rec.retrieval, context, ranking.neighbours, extra)
    trained_on = ranker.metadata.get("sources", [])
    if stage.names != trained_on:
        log.warning(
            "two-stage candidates from %s, the ranker %s was trained with %s: missing sources "
            "leave their features empty", stage.names, ranker.version, trained_on,
        )
    history = RequestHistory(model)
    try:
        repo = FeatureRepo(settings.features_dir, rec.feature_store)
        features = StoreFeatures(repo, model, trained_on, history)
    except (FileNotFoundError, StorageError) as exc:  # none, nothing materialized, unreachable
        log.warning("two-stage recommendations off: %s", exc)
        return None
    facts = book_facts(catalog())
    ids = model.items.ids
    pipeline = TwoStagePipeline(
        stage,
        features,
        ranker,
        make_rules(ranking.rules),
        make_boosts(ranking.boosts, settings.data_dir),
        books=facts,
        read=lambda profile: [ids[i] for i in history(profile)],
    )
    log.info(
        "two-stage recommendations: ranker %s over model %s, candidates from %s",
        ranker.version, model.version, ", ".join(stage.names),
    )
    return TwoStage(pipeline, ranker.version, observer)


def _content_source(
    settings: Settings, model: RecsModel, vector_store: VectorStore | None
) -> Content | None:
    try:
        embeddings = load_embeddings(settings.embeddings_dir, settings.model.name)
        store = vector_store or open_store(settings)
    except (FileNotFoundError, StoreError) as exc:
        log.warning("more-like-this without content similarity: %s", exc)
        return None
    if store.count() == 0:
        log.warning("more-like-this without content similarity: the search index is empty")
        return None
    return Content(model, store, vector_lookup(embeddings.ids, embeddings.vectors))


class CoReaders:
    """The recommender's item-item neighbours as search's co-read neighbours of a book."""

    def __init__(self, service: RecommendService) -> None:
        self.service = service

    def co_read(self, book_id: str, limit: int) -> list[str]:
        """The books most read with `book_id` by the model's readers, best first."""
        if book_id not in self.service.model.item_index:
            return []
        found = self.service.item_item.personalised(Profile(liked=(book_id,)), limit)
        return [] if found is None else [c.item_id for c in found.candidates]
