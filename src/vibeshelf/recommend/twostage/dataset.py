"""The ranker's data: a leave-out split, ALS fitted on its training part, readers split three ways,
and each reader's candidate feature rows labelled with the grade of their held-out books."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm import tqdm

from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.dataset import Interactions, TrainingData
from vibeshelf.recommend.evaluation import holdout_split
from vibeshelf.recommend.models.factors import PARAMS, fit_factors
from vibeshelf.recommend.retrieval import Proposal
from vibeshelf.recommend.sources import Profile
from vibeshelf.recommend.twostage.candidates import CandidateStage
from vibeshelf.recommend.twostage.ranker import LABEL
from vibeshelf.recommend.twostage.training_features import HistoricalFeatures

BATCH = 512
VALID_SHARE = 0.2


def grade(strength: float) -> int:
    """A held-out book's label: 1 read without a rating, else 1-4 by rating (strength in (0, 1])."""
    return 1 if np.isnan(strength) else max(1, int(np.rint(strength * 5)) - 1)


@dataclass
class ReaderSplit:
    """Disjoint reader index sets: ranker training, its early-stopping validation, evaluation."""

    train: np.ndarray
    valid: np.ndarray
    evaluate: np.ndarray


def split_readers(test: Interactions, n_train: int, n_eval: int, seed: int) -> ReaderSplit:
    """Readers with held-out books shuffled and halved: one half fits the ranker (a share of it
    for early stopping), the other only evaluates; each side capped at its size."""
    users = np.flatnonzero(np.diff(test.strengths.indptr) > 0)
    users = np.random.default_rng(seed).permutation(users)
    half = len(users) // 2
    fit, evaluate = users[:half][:n_train], users[half:][:n_eval]
    n_valid = max(1, int(len(fit) * VALID_SHARE))
    return ReaderSplit(np.sort(fit[n_valid:]), np.sort(fit[:n_valid]), np.sort(evaluate))


def split_model(
    data: TrainingData, rec: RecommendSettings, progress: bool = False
) -> tuple[RecsModel, Interactions, Interactions]:
    """ALS fitted on the leave-out split's training part (as `eval recs` fits it), that part, and
    the held-out part."""
    train, test = holdout_split(data.interactions, rec)
    users, items = fit_factors(train, data.items.shelves, rec, progress=progress)
    metadata = {"params": {name: getattr(rec, name) for name in PARAMS}}
    return RecsModel.fitted(train, data.items, users, items, metadata), train, test


def labelled_frame(
    stage: CandidateStage,
    features: HistoricalFeatures,
    test: Interactions,
    users: np.ndarray,
    progress: bool = False,
) -> tuple[pd.DataFrame, list[list[Proposal]]]:
    """Candidate feature rows of `users` (as the served pipeline proposes for a model reader),
    grouped per reader, with a LABEL column; and the proposals."""
    frames, proposals = [], []
    for start in tqdm(range(0, len(users), BATCH), desc="candidates", disable=not progress):
        batch = users[start : start + BATCH]
        readers = []
        for user in batch:
            found = stage(Profile(user_id=test.users[int(user)]))
            readers.append((test.users[int(user)], found))
            proposals.append(found)
        frame = features.frame(readers)
        frame[LABEL] = _labels(test, batch, proposals[start:])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True), proposals


def _labels(test: Interactions, users: np.ndarray, proposals: list[list[Proposal]]) -> np.ndarray:
    out: list[int] = []
    for user, props in zip(users, proposals, strict=True):
        row = test.strengths[int(user)]
        held = {test.items[i]: grade(s) for i, s in zip(row.indices, row.data, strict=True)}
        out.extend(held.get(p.item_id, 0) for p in props)
    return np.array(out, np.int32)
