"""A two-stage request's reader profile, and the pipeline's result as /api/recommend answers it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.schemas import PipelineReport, RecommendedBook, RuleMove
from vibeshelf.recommend.sources import Profile

if TYPE_CHECKING:  # the pipeline needs the `ranker` extra (pandas); serving without it must load
    from vibeshelf.recommend.twostage.pipeline import PipelineResult, TwoStagePipeline


class NoRankerError(LookupError):
    """The two-stage pipeline was asked for, and no ranker is loaded."""

    def __init__(self) -> None:
        super().__init__("no two-stage ranker is loaded: run `vibeshelf train ranker` first")


class PipelineObserver(Protocol):
    def pipeline_ran(
        self, timings_ms: dict[str, float], counts: dict[str, int], relaxations: int
    ) -> None: ...


@dataclass(frozen=True)
class TwoStage:
    """The loaded two-stage pipeline, its ranker's version, and who counts its stages."""

    pipeline: TwoStagePipeline
    ranker_version: str
    observer: PipelineObserver | None = None


def two_stage_profile(
    model: RecsModel, user_id: str | None, liked: list[str], history: list[str]
) -> Profile:
    """The reader a request names: the liked list, then the stored books the model did not train
    on (all of them for a reader it does not know); every stored book is `seen`."""
    user = model.user_index.get(user_id) if user_id else None
    trained = {model.items.ids[i] for i in model.user_items(user)} if user is not None else set()
    news = [item for item in history if item not in trained]
    return Profile(
        user_id=user_id, liked=tuple(dict.fromkeys([*liked, *news])), seen=frozenset(history)
    )


def reader_kind(model: RecsModel, profile: Profile, liked: list[str]) -> str:
    """Who a two-stage list is for: a liked list, a folded-in history, a model reader, or a new
    reader nothing is known of."""
    if liked:
        return "liked"
    if profile.liked:
        return "history"
    return "model" if profile.user_id in model.user_index else "new"


def two_stage_books(
    result: PipelineResult,
    book: Callable[[str], dict[str, Any]],
    because: Callable[[list[str]], list[str]],
) -> list[RecommendedBook]:
    """Each ranked book with its sources, the ranker's score, and a reason a reader can use:
    `because` (one line per book, e.g. the read book it is closest to), then what boosts and
    rules did to it (the pipeline's first reason, the ranker's score and sources, is in fields)."""
    lines = because([item.item_id for item in result.items])
    return [
        RecommendedBook(
            **book(item.item_id),
            score=round(min(1.0, max(0.0, item.score)), 4),
            reason="; ".join([line, *item.reasons[1:]]),
            sources=list(item.sources),
            ranker_score=round(item.ranker_score, 4),
        )
        for item, line in zip(result.items, lines, strict=True)
    ]


def pipeline_report(
    two_stage: TwoStage, reader: str, result: PipelineResult, debug: bool
) -> PipelineReport:
    """Who the list is for, the sources, rules and boosts, what the rules did on this list; with
    `debug`, each stage's time and counts."""
    pipeline = two_stage.pipeline
    return PipelineReport(
        ranker_version=two_stage.ranker_version,
        reader=reader,
        sources=list(pipeline.retrieve.names),
        rules=[r.name for r in pipeline.rules],
        boosts=[b.name for b in pipeline.boosts],
        moves=[
            RuleMove(
                book_id=m.item_id,
                rule=m.rule,
                from_position=m.from_position,
                to_position=m.to_position,
            )
            for m in result.moves
        ],
        relaxations=[f"{r.rule}: {r.detail}" for r in result.relaxations],
        timings_ms=result.timings_ms if debug else None,
        counts=result.counts if debug else None,
    )
