"""Candidate sources the two-stage pipeline adds to the configured ones: the two-tower model."""

from __future__ import annotations

import logging

from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.artifacts import ModelNotFoundError, RecsModel
from vibeshelf.recommend.sources import CandidateSource
from vibeshelf.recommend.two_tower.artifacts import load_two_tower, two_tower_root
from vibeshelf.recommend.two_tower.source import TwoTower
from vibeshelf.recommend.two_tower.store import item_vector_store
from vibeshelf.settings import Settings
from vibeshelf.storage.errors import StoreError

log = logging.getLogger(__name__)

TWO_TOWER = "two-tower"


def two_tower_source(
    settings: Settings, rec: RecommendSettings, model: RecsModel
) -> list[tuple[str, CandidateSource, int]]:
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
