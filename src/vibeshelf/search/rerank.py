"""A learned linear rerank of the fused top candidates; weights fitted offline (eval/fit_rerank.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Per candidate: cosine similarity; BM25 over the query's best BM25; log popularity; share of the
# query's words found in the book's shelves; best cosine between the query and one of the book's
# shelf phrases; the vector and BM25 reciprocal ranks (k + 1) / (k + rank), 0 when absent; shelf
# consensus, the cosine between the book's shelves and the shelf counts of the top fused books;
# and the cosine between the query and the book's description alone (0 without one), which the
# whole-book document mostly loses past the model's token limit. (A reciprocal rank among the
# nearest descriptions, the third list hybrid retrieval fuses, lowered the cross-validated MRR.)
FEATURES: tuple[str, ...] = (
    "vector", "lexical", "popularity", "shelf_words", "shelf_similarity", "vector_rr", "lexical_rr",
    "shelf_consensus", "description",
)
CONSENSUS_DEPTH = 20
WEIGHTS_FILE = Path(__file__).with_name("rerank_weights.json")


class RerankWeightsError(RuntimeError):
    """A weights file that is missing, unreadable or does not fit the feature set."""


@dataclass(frozen=True)
class Reranker:
    """score = bias + weights . features; higher is better."""

    weights: np.ndarray
    bias: float

    def score(self, features: np.ndarray) -> np.ndarray:
        """Scores for a candidates x FEATURES matrix."""
        return features @ self.weights + self.bias

    def order(self, features: np.ndarray) -> np.ndarray:
        """Row indices best first (stable: equal scores keep the fused order)."""
        return np.argsort(-self.score(features), kind="stable")

    def reorder(self, ordered: list[tuple[str, float]], features: np.ndarray) -> list[tuple[str, float]]:
        """`ordered` (book id, fused score, best first) with its head, whose features are the rows of
        `features`, reordered by score; below the head the fused order goes on, its scores shifted
        under the reranked ones."""
        scores = self.score(features)
        values = scores.tolist()
        reranked = [(ordered[i][0], values[i]) for i in np.argsort(-scores, kind="stable").tolist()]
        tail = ordered[len(features) :]
        if not reranked or not tail:
            return reranked + tail
        shift = reranked[-1][1] - tail[0][1]
        return reranked + [(book_id, score + shift) for book_id, score in tail]

    def to_json(self, **about: object) -> str:
        weights = dict(zip(FEATURES, self.weights.round(6).tolist(), strict=True))
        return json.dumps({"features": weights, "bias": round(self.bias, 6), **about}, indent=2) + "\n"

    @classmethod
    def fused(cls) -> Reranker:
        """Weights that order candidates by the vector and BM25 reciprocal ranks, summed."""
        return cls(np.array([float(f in ("vector_rr", "lexical_rr")) for f in FEATURES]), 0.0)

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> Reranker:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise RerankWeightsError(f"rerank weights {path} are unreadable: {exc}") from exc
        weights = data.get("features", {}) if isinstance(data, dict) else {}
        if set(weights) != set(FEATURES):
            raise RerankWeightsError(f"{path}: expected weights for {FEATURES}, got {sorted(weights)}")
        return cls(np.array([float(weights[f]) for f in FEATURES]), float(data.get("bias", 0.0)))
