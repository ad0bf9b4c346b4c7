"""`vibeshelf search` and `vibeshelf eval search`: query the index, score it on labelled queries."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from vibeshelf.cli.errors import fail
from vibeshelf.cli.loading import load_runtime
from vibeshelf.cli.settings import current_settings, with_section
from vibeshelf.search.schemas import RATING_MAX, RATING_MIN, YEAR_MAX, YEAR_MIN


class SearchMode(str, Enum):
    """Retrieval modes for `search --mode`."""

    vector = "vector"
    lexical = "lexical"
    hybrid = "hybrid"


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What the book feels like.")],
    limit: Annotated[int, typer.Option(min=1, max=500, help="Results to show.")] = 10,
    shelf: Annotated[list[str] | None, typer.Option(help="Keep books on this shelf (repeatable).")] = None,
    genre: Annotated[
        list[str] | None, typer.Option(help="Keep books of this canonical genre (repeatable).")
    ] = None,
    year_min: Annotated[
        int | None, typer.Option(min=YEAR_MIN, max=YEAR_MAX, help="Earliest publication year.")
    ] = None,
    year_max: Annotated[
        int | None, typer.Option(min=YEAR_MIN, max=YEAR_MAX, help="Latest publication year.")
    ] = None,
    min_rating: Annotated[
        float | None, typer.Option(min=RATING_MIN, max=RATING_MAX, help="Minimum average rating.")
    ] = None,
    language: Annotated[str | None, typer.Option(help="Language code, e.g. eng.")] = None,
    mode: Annotated[
        SearchMode | None, typer.Option(help="vector, lexical or hybrid (default from settings).")
    ] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Say why each result matched.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON response.")] = False,
) -> None:
    """Search the index from the command line."""
    from vibeshelf.search.query import QueryError
    from vibeshelf.search.schemas import SearchParams

    settings = with_section(current_settings(ctx), "serve", query_log=False)
    params = SearchParams(
        q=query, limit=limit, shelves=shelf or [], genres=genre or [], year_min=year_min,
        year_max=year_max, min_rating=min_rating, language=language,
        mode=mode.value if mode else None, explain=explain,
    )
    runtime = load_runtime(settings)
    try:
        response = runtime.search.search(params)
    except QueryError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(response.model_dump_json(indent=2))
        return
    for r in response.results:
        year = f" ({r.year})" if r.year else ""
        typer.echo(f"{r.rank:>2}. {r.score:.3f}  {r.title}{year} — {', '.join(r.authors)}")
        if r.explanation:
            why = r.explanation
            typer.echo(
                f"      vector rank {why.vector_rank or '-'}, lexical rank {why.lexical_rank or '-'}"
                f"{', exact ' + why.exact_match if why.exact_match else ''}; "
                f"words: {', '.join(why.shared_words) or '-'}; shelves: {', '.join(why.shared_shelves) or '-'}"
                f"; genres: {', '.join(why.matched_genres) or '-'}"
            )
    typer.echo(f"{len(response.results)} results in {response.took_ms:.1f} ms", err=True)


def eval_search_cmd(
    ctx: typer.Context,
    queries: Annotated[
        list[Path],
        typer.Option("--queries", help='JSONL of {"query": ..., "relevant": [book ids]}; repeatable.'),
    ],
    previous: Annotated[
        bool, typer.Option("--previous", help="Also score the previous index builds (see keep_builds).")
    ] = False,
    allow_leak: Annotated[
        bool,
        typer.Option("--allow-leak", help="Score queries whose holdout shelves books still have."),
    ] = False,
) -> None:
    """MRR@10, nDCG@10, recall@10, recall@50 and in-process p50 latency per mode, per query file."""
    from vibeshelf.search.evaluate import (
        EvalSetError,
        check_holdout,
        evaluate_service,
        format_gains,
        format_table,
        load_queries,
    )

    settings = current_settings(ctx)
    settings = with_section(settings, "search", query_cache_size=0, max_limit=50)
    settings = with_section(settings, "serve", query_log=False)
    try:
        sets = {path.stem: load_queries(path) for path in queries}
    except EvalSetError as exc:
        fail(str(exc))
    runtimes = {"current": load_runtime(settings)}
    if not allow_leak:
        catalog = runtimes["current"].catalog
        try:
            for name, qs in sets.items():
                check_holdout(qs, catalog, f"{name} on {settings.data_dir}")
        except EvalSetError as exc:
            fail(f"{exc}; or pass --allow-leak to score it anyway")
    if previous:
        runtimes["previous"] = load_runtime(settings, previous=True)
    for name, qs in sets.items():
        rows = {}
        gains = []
        for build, runtime in runtimes.items():
            label = f"{build} {runtime.store.manifest.build_id}: " if previous else ""
            scored = evaluate_service(runtime.search, qs)
            rows.update({label + variant: result.metrics for variant, result in scored.items()})
            gains.append(label + format_gains(scored))
        typer.echo(f"{name} ({len(qs)} queries)")
        typer.echo(format_table(rows) + "\n")
        typer.echo("\n".join(gains) + "\n")
