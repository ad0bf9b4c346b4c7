"""Candidate sources the two-stage pipeline adds to the configured ones: the two-tower model, and
co-reads from another interactions source of the same catalog."""

from __future__ import annotations

import logging

from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.artifacts import ModelNotFoundError, RecsModel
from vibeshelf.recommend.dataset import Interactions
from vibeshelf.recommend.sources import CandidateSource
from vibeshelf.recommend.storage.factory import open_interactions
from vibeshelf.recommend.two_tower.artifacts import load_two_tower, two_tower_root
from vibeshelf.recommend.two_tower.source import TwoTower
from vibeshelf.recommend.two_tower.store import item_vector_store
from vibeshelf.recommend.twostage.neighbour_table import TableItemItem, co_read_table
from vibeshelf.settings import Settings
from vibeshelf.storage.errors import StorageError, StoreError

log = logging.getLogger(__name__)

TWO_TOWER = "two-tower"
CO_READS = "co-reads"
CATALOG = "catalog"

Extra = list[tuple[str, CandidateSource, int]]


def two_tower_source(settings: Settings, rec: RecommendSettings, model: RecsModel) -> Extra:
    """The two-tower source proposing `recommend.ranking.two_tower` books, when that is above 0
    and a two-tower model is trained with its item vectors in the store; else none (logged)."""
    n = rec.ranking.two_tower
    if n == 0:
        return []
    try:
        tower = load_two_tower(two_tower_root(settings))
        store = item_vector_store(settings, rec.two_tower.collection)
    except (ModelNotFoundError, StoreError) as exc:
        log.warning("two-stage candidates without the two-tower source: %s", exc)
        return []
    return [(TWO_TOWER, TwoTower(model, tower, store), n)]


def co_reads_source(
    settings: Settings, rec: RecommendSettings, model: RecsModel, trained_on: str, item_space: str
) -> Extra:
    """Item-item co-reads of `recommend.ranking.co_reads_source`, another interactions source over
    the same catalog (a different population of readers), proposing `recommend.ranking.co_reads`
    books; none when that is 0, when the model was trained on that source itself (its item-item
    source reads the same co-reads), or when the source is missing or not over the catalog."""
    ranking = rec.ranking
    other = ranking.co_reads_source
    if ranking.co_reads == 0 or item_space != CATALOG or other == trained_on:
        return []
    store = open_interactions(rec.events_url, settings.data_dir)
    try:
        info = store.source(other)
        rows = store.read(info.name) if info.item_space == CATALOG else None
    except StorageError as exc:
        log.info("two-stage candidates without co-reads of %s: %s", other, exc)
        return []
    finally:
        store.close()
    if rows is None:
        log.warning("two-stage candidates without co-reads of %s: not over the catalog", other)
        return []
    seen = Interactions.from_table(rows, model.items.ids).seen()
    table = co_read_table(seen, ranking.neighbours)
    log.info("two-stage co-reads of %s: %d readers, %d interactions", other, seen.shape[0], seen.nnz)
    return [(CO_READS, TableItemItem(model, table), ranking.co_reads)]


def added_sources(
    settings: Settings, rec: RecommendSettings, model: RecsModel, trained_on: str, item_space: str
) -> Extra:
    """Every source two-stage adds to the configured ones for `model` (trained on source
    `trained_on`, over `item_space`): the two-tower model, then another source's co-reads."""
    return two_tower_source(settings, rec, model) + co_reads_source(
        settings, rec, model, trained_on, item_space
    )
