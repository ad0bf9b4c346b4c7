"""A two-stage pipeline's result as /api/recommend answers it, and the stage figures it reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from vibeshelf.recommend.schemas import PipelineReport, RecommendedBook, RuleMove
from vibeshelf.recommend.twostage.pipeline import PipelineResult


class PipelineObserver(Protocol):
    def pipeline_ran(
        self, timings_ms: dict[str, float], counts: dict[str, int], relaxations: int
    ) -> None: ...


def two_stage_books(
    result: PipelineResult, book: Callable[[str], dict[str, Any]]
) -> list[RecommendedBook]:
    """Each ranked book with its sources, the ranker's score and the reasons rules and boosts gave."""
    return [
        RecommendedBook(
            **book(item.item_id),
            score=round(min(1.0, max(0.0, item.score)), 4),
            reason=item.reason,
            sources=list(item.sources),
            ranker_score=round(item.ranker_score, 4),
        )
        for item in result.items
    ]


def pipeline_report(ranker_version: str, result: PipelineResult, debug: bool) -> PipelineReport:
    """What the rules did on this list; with `debug`, each stage's time and counts."""
    return PipelineReport(
        ranker_version=ranker_version,
        moves=[
            RuleMove(
                book_id=m.item_id, rule=m.rule, from_position=m.from_position,
                to_position=m.to_position,
            )
            for m in result.moves
        ],
        relaxations=[f"{r.rule}: {r.detail}" for r in result.relaxations],
        timings_ms=result.timings_ms if debug else None,
        counts=result.counts if debug else None,
    )
