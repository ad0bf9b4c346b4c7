"""`vibeshelf train two-tower` and `eval two-tower`: the two-tower retrieval model."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from vibeshelf.cli.errors import fail
from vibeshelf.cli.settings import current_settings
from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.config.two_tower import TwoTowerSettings
from vibeshelf.settings import Settings

SourceOption = Annotated[
    str | None, typer.Option(help="Interactions source (default from settings).")
]
EpochsOption = Annotated[int | None, typer.Option(help="Passes over the interactions.")]
StepsOption = Annotated[
    int | None, typer.Option(help="At most this many batches, whatever the epochs.")
]


def _settings(ctx: typer.Context, **overrides: object) -> tuple[Settings, RecommendSettings]:
    """The run's settings with the two-tower section's command-line overrides (None = keep)."""
    settings = current_settings(ctx)
    rec = settings.recommend
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        tower = TwoTowerSettings.model_validate({**rec.two_tower.model_dump(), **given})
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        fail(f"invalid settings: {exc}")
    return settings, rec.model_copy(update={"two_tower": tower})


def train_two_tower_cmd(
    ctx: typer.Context,
    source: SourceOption = None,
    epochs: EpochsOption = None,
    max_steps: StepsOption = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (same seed, same towers).")] = None,
) -> None:
    """Train the two-tower model, export its user tower to ONNX and write the item vectors into
    the vector store's two-tower collection (needs the train extra: torch)."""
    from vibeshelf.config.extras import MissingExtraError
    from vibeshelf.recommend.two_tower.artifacts import two_tower_root
    from vibeshelf.recommend.two_tower.training import train_two_tower
    from vibeshelf.storage.errors import StorageError

    settings, rec = _settings(ctx, epochs=epochs, max_steps=max_steps, seed=seed)
    try:
        meta = train_two_tower(settings, rec, source, progress=True)
    except (MissingExtraError, StorageError, FileNotFoundError) as exc:
        fail(str(exc))
    counts = meta["counts"]
    typer.echo(
        f"trained two-tower {meta['version']} on {meta['source']}: {counts['users']:,} users, "
        f"{counts['items']:,} items ({counts['items_without_interactions']:,} without "
        f"interactions), {counts['interactions']:,} interactions in {meta['train_seconds']}s "
        f"-> {two_tower_root(settings) / meta['version']}; item vectors in "
        f"collection {rec.two_tower.collection}"
    )


def eval_two_tower_cmd(
    ctx: typer.Context,
    source: SourceOption = None,
    epochs: EpochsOption = None,
    max_steps: StepsOption = None,
) -> None:
    """Recall@50, recall@200 and NDCG@10 of two-tower retrieval beside ALS and popularity on the
    held-out split, and how it treats books with no training interactions (JSON)."""
    from vibeshelf.config.extras import MissingExtraError
    from vibeshelf.recommend.two_tower.evaluation import compare_retrieval
    from vibeshelf.storage.errors import StorageError

    settings, rec = _settings(ctx, epochs=epochs, max_steps=max_steps)
    try:
        result = compare_retrieval(settings, rec, source, progress=True)
    except (MissingExtraError, StorageError, FileNotFoundError) as exc:
        fail(str(exc))
    typer.echo(json.dumps(result, indent=2))
