"""`vibeshelf ingest goodbooks|file|sample`: build the books table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vibeshelf.cli.errors import fail
from vibeshelf.cli.settings import current_settings, source_folder

ingest_app = typer.Typer(help="Build the clean books table (Parquet) from raw files.", no_args_is_help=True)


def _report(report: object) -> None:
    typer.echo(report.summary())  # type: ignore[attr-defined]


@ingest_app.command("goodbooks")
def ingest_goodbooks_cmd(
    ctx: typer.Context,
    source: Annotated[
        Path | None, source_folder("goodbooks-10k/, goodbooks-shelves/ and book-descriptions/")
    ] = None,
) -> None:
    """Join the goodbooks-10k catalog, shelves and descriptions into the books table."""
    from vibeshelf.catalog.goodbooks import ingest_goodbooks
    from vibeshelf.catalog.schema import CatalogError

    settings = current_settings(ctx)
    try:
        _report(ingest_goodbooks(
            source or settings.catalog.source_dir, settings.books_path,
            generated_descriptions=settings.catalog.generated_descriptions,
        ))
    except CatalogError as exc:
        fail(str(exc))


@ingest_app.command("file")
def ingest_file_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A CSV, JSONL or Parquet file of books.")],
    mapping: Annotated[
        list[str],
        typer.Option("--map", "-m", help="OURS=THEIRS column mapping; book_id and title required."),
    ],
    fmt: Annotated[str | None, typer.Option("--format", help="csv, jsonl or parquet (default: from suffix).")] = None,
) -> None:
    """Ingest your own catalog, e.g. `--map book_id=id --map title=Title --map authors=Author`."""
    from vibeshelf.catalog.custom import ingest_file
    from vibeshelf.catalog.schema import CatalogError

    pairs = column_mapping(mapping, "--map title=Title")
    try:
        _report(ingest_file(path, pairs, current_settings(ctx).books_path, fmt))
    except CatalogError as exc:
        fail(str(exc))


@ingest_app.command("sample")
def ingest_sample_cmd(ctx: typer.Context) -> None:
    """Use the bundled sample catalog (a few thousand goodbooks books)."""
    from vibeshelf.catalog.sample import install_sample
    from vibeshelf.catalog.schema import CatalogError

    try:
        _report(install_sample(current_settings(ctx).books_path))
    except CatalogError as exc:
        fail(str(exc))


def column_mapping(mapping: list[str], example: str) -> dict[str, str]:
    """`--map OURS=THEIRS` options as a dict; exit 2 on any that lacks the `=`."""
    pairs = dict(item.split("=", 1) for item in mapping if "=" in item)
    if len(pairs) != len(mapping):
        fail(f"each --map must look like OURS=THEIRS, e.g. {example}")
    return pairs
