"""`vibeshelf ingest interactions ...` and `eval recs`: the recommender's data and its scores."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from tqdm import tqdm

from vibeshelf.cli.catalog import column_mapping
from vibeshelf.cli.errors import fail
from vibeshelf.cli.settings import current_settings, source_folder
from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.settings import Settings
from vibeshelf.tables import aligned_table

if TYPE_CHECKING:
    from vibeshelf.recommend.interactions.report import InteractionsReport
    from vibeshelf.recommend.storage.base import InteractionStore

interactions_app = typer.Typer(
    help="Load reader-book interactions (ratings, events) into the interactions store.",
    no_args_is_help=True,
)
train_app = typer.Typer(help="Train models.", no_args_is_help=True)


def recommend_settings(
    ctx: typer.Context, **overrides: object
) -> tuple[Settings, RecommendSettings]:
    """The run's settings plus the recommend section with command-line overrides (None = keep)."""
    settings = current_settings(ctx)
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return settings, RecommendSettings.model_validate({**settings.recommend.model_dump(), **given})
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        fail(f"invalid settings: {exc}")


def _print_reports(reports: list[InteractionsReport]) -> None:
    """Each report's summary, then an example line for every reason rows were dropped."""
    for report in reports:
        typer.echo(report.summary())
        for reason, examples in sorted(report.examples.items()):
            if examples:
                typer.echo(f"  e.g. {reason}: {examples[0]}")


# ---- ingest interactions -------------------------------------------------------------------------
def _ingest(
    settings: Settings,
    rec: RecommendSettings,
    load: Callable[[InteractionStore], list[InteractionsReport]],
) -> None:
    """Run `load` on the interactions store and print its reports; a file or store error fails."""
    from vibeshelf.recommend.interactions.report import IngestError
    from vibeshelf.recommend.storage.factory import open_interactions
    from vibeshelf.storage.errors import StorageError

    try:
        store = open_interactions(rec.events_url, settings.data_dir)
        try:
            reports = load(store)
        finally:
            store.close()
    except (IngestError, StorageError) as exc:
        fail(str(exc))
    _print_reports(reports)


@interactions_app.command("book-crossing")
def ingest_book_crossing_cmd(
    ctx: typer.Context,
    source: Annotated[Path | None, source_folder("book-crossing/")] = None,
) -> None:
    """Book-Crossing: ratings as their own ISBN item space and linked to the catalog, plus BX-Books."""
    from vibeshelf.recommend.bxbooks import BX_BOOKS_FILE, ingest_bx_books
    from vibeshelf.recommend.interactions.bookcrossing import ingest_book_crossing

    settings, rec = recommend_settings(ctx)
    source_dir = source or settings.catalog.source_dir

    def load(store: InteractionStore) -> list[InteractionsReport]:
        with tqdm(total=2, desc="book-crossing", unit="file") as bar:
            reports = ingest_book_crossing(source_dir, store, settings.books_path)
            bar.update()
            reports.append(ingest_bx_books(source_dir, settings.catalog_dir / BX_BOOKS_FILE))
            bar.update()
        return reports

    _ingest(settings, rec, load)


@interactions_app.command("goodreads")
def ingest_goodreads_cmd(
    ctx: typer.Context,
    source: Annotated[Path | None, source_folder("goodreads-interactions/")] = None,
) -> None:
    """The anonymised Goodreads-style ratings (their own item space, not linked to the catalog)."""
    from vibeshelf.recommend.interactions.goodreads import ingest_goodreads

    settings, rec = recommend_settings(ctx)
    source_dir = source or settings.catalog.source_dir
    _ingest(settings, rec, lambda store: [ingest_goodreads(source_dir, store)])


@interactions_app.command("goodbooks")
def ingest_goodbooks_cmd(
    ctx: typer.Context,
    source: Annotated[Path | None, source_folder("goodbooks-10k/")] = None,
) -> None:
    """The goodbooks-10k ratings (1-5) of the catalog's own books, linked to it by book_id."""
    from vibeshelf.recommend.interactions.goodbooks import ingest_goodbooks

    settings, rec = recommend_settings(ctx)
    source_dir = source or settings.catalog.source_dir
    _ingest(settings, rec, lambda store: [ingest_goodbooks(source_dir, store, settings.books_path)])


@interactions_app.command("file")
def ingest_interactions_file_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A CSV, JSONL or Parquet file of interactions.")],
    mapping: Annotated[
        list[str],
        typer.Option(
            "--map",
            "-m",
            help="OURS=THEIRS for user, item, rating, event, timestamp; user and item required.",
        ),
    ],
    name: Annotated[
        str, typer.Option("--source", help="Name of this interactions source.")
    ] = "custom",
    items: Annotated[
        str, typer.Option(help="What the item column holds: own ids, catalog book ids, or isbn.")
    ] = "own",
    fmt: Annotated[
        str | None, typer.Option("--format", help="csv, jsonl or parquet (default: from suffix).")
    ] = None,
    rating_max: Annotated[
        float | None,
        typer.Option(help="Top of the rating scale (default: inferred: 1, 5, 10 or 100)."),
    ] = None,
) -> None:
    """Your own interactions, e.g. `--map user=reader --map item=isbn --map rating=stars --items isbn`."""
    from vibeshelf.recommend.interactions.files import ingest_file

    pairs = column_mapping(mapping, "--map user=reader_id")
    settings, rec = recommend_settings(ctx)

    def load(store: InteractionStore) -> list[InteractionsReport]:
        return [ingest_file(path, pairs, store, name, items, fmt, rating_max, settings.books_path)]

    _ingest(settings, rec, load)


@interactions_app.command("sample")
def ingest_ratings_sample_cmd(ctx: typer.Context) -> None:
    """The bundled Book-Crossing ratings of the sample's books (after `vibeshelf ingest sample`)."""
    from vibeshelf.recommend.sample import install_ratings_sample

    settings, rec = recommend_settings(ctx)
    _ingest(settings, rec, lambda store: [install_ratings_sample(store, settings.books_path)])


@interactions_app.command("sources")
def sources_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List the interaction sources in the store, with their item space and row count."""
    from vibeshelf.recommend.storage.factory import open_interactions
    from vibeshelf.storage.errors import StorageError

    settings, rec = recommend_settings(ctx)
    try:
        store = open_interactions(rec.events_url, settings.data_dir)
        try:
            infos = store.sources()
        finally:
            store.close()
    except StorageError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps([asdict(info) for info in infos], indent=2))
    elif infos:
        rows = ((i.name, i.item_space, f"{i.rows:,}", i.updated_at) for i in infos)
        typer.echo(aligned_table(("SOURCE", "ITEMS", "ROWS", "UPDATED"), rows))
    else:
        typer.echo("no interactions yet: load some with `vibeshelf ingest interactions`", err=True)


# ---- eval --------------------------------------------------------------------------------
def eval_recs_cmd(
    ctx: typer.Context,
    tune: Annotated[
        bool, typer.Option("--tune", help="Also grid-search parameters on a validation split.")
    ] = False,
    candidates: Annotated[
        bool,
        typer.Option(
            "--candidates",
            help="Also the recall of each candidate source and of their merge "
            "(recommend.retrieval settings).",
        ),
    ] = False,
    source: Annotated[
        str | None,
        typer.Option(help="Interactions source (default: the current model's, else settings)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """HR@10, NDCG@10, recall@50 and coverage of the current and previous versions beside popularity,
    and the current ranker's feature importances when one is trained."""
    from vibeshelf.recommend.evaluation import evaluate_versions
    from vibeshelf.recommend.retrieval_eval import evaluate_candidates
    from vibeshelf.recommend.twostage.ranker_record import (
        current_record,
        importance_shares,
        ranker_summary,
    )
    from vibeshelf.storage.errors import StorageError

    settings, rec = recommend_settings(ctx)
    try:
        evaluation = evaluate_versions(
            settings, rec, with_tuning=tune, progress=True, source=source
        )
        proposals = (
            evaluate_candidates(settings, rec, evaluation.source, progress=True)
            if candidates
            else None
        )
    except (StorageError, FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    ranker = current_record(settings)
    if as_json:
        extra = {"candidates": proposals.to_dict()} if proposals else {}
        if ranker is not None:
            shares = importance_shares(ranker.get("importances_gain", {}))
            extra["ranker"] = {"version": ranker.get("version"), "importances": shares}
        typer.echo(json.dumps({**evaluation.to_dict(), **extra}, indent=2))
    else:
        typer.echo(evaluation.table())
        if proposals:
            typer.echo("\n" + proposals.table())
        if ranker is not None:
            typer.echo("\n" + ranker_summary(ranker))
