"""`vibeshelf search` and `vibeshelf eval search`: query the index, score it on labelled queries."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

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
    meaning = response.interpreted
    if meaning is not None and meaning.kind != "vibe":
        named = meaning.title or meaning.author or meaning.series
        steer = f", steered by {meaning.vibe!r}" if meaning.vibe and meaning.kind != "title" else ""
        typer.echo(f"read as {meaning.kind.replace('_', ' ')}: {named}{steer}", err=True)
    typer.echo(f"{len(response.results)} results in {response.took_ms:.1f} ms", err=True)


def eval_search_cmd(
    ctx: typer.Context,
    queries: Annotated[
        list[Path],
        typer.Option("--queries", help='JSONL of {"query": ..., "relevant": [book ids]}; repeatable.'),
    ],
    holdout_data_dir: Annotated[
        Path | None,
        typer.Option(help="Data dir of a held-out catalog: sets with holdout shelves are scored there."),
    ] = None,
    previous: Annotated[
        bool, typer.Option("--previous", help="Also score the previous index builds (see keep_builds).")
    ] = False,
    allow_leak: Annotated[
        bool,
        typer.Option("--allow-leak", help="Score queries whose holdout shelves books still have."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON report.")] = False,
) -> None:
    """MRR@10, nDCG@10, P@10, recall, title-hijack share and p50 latency per mode, per query
    file, then every set side by side with bootstrap 95 % intervals."""
    import json

    from vibeshelf.search.eval_report import as_json as report_json
    from vibeshelf.search.eval_report import format_side_by_side, score_sets, side_by_side
    from vibeshelf.search.evaluate import EvalSetError, check_holdout, load_queries

    settings = current_settings(ctx)
    settings = with_section(settings, "search", query_cache_size=0, max_limit=50)
    settings = with_section(settings, "serve", query_log=False)
    try:
        sets = {path.stem: load_queries(path) for path in queries}
    except EvalSetError as exc:
        fail(str(exc))
    held_out = settings.model_copy(update={"data_dir": holdout_data_dir}) if holdout_data_dir else None
    where = {name: held_out if held_out and any(q.holdout for q in qs) else settings
             for name, qs in sets.items()}
    runtimes: dict[Path, dict[str, Any]] = {}
    for chosen in {s.data_dir: s for s in where.values()}.values():
        builds = {"current": load_runtime(chosen)}
        if previous:
            builds["previous"] = load_runtime(chosen, previous=True)
        runtimes[chosen.data_dir] = builds
    if not allow_leak:
        try:
            for name, qs in sets.items():
                catalog = runtimes[where[name].data_dir]["current"].catalog
                check_holdout(qs, catalog, f"{name} on {where[name].data_dir}")
        except EvalSetError as exc:
            fail(f"{exc}; or pass --allow-leak (or --holdout-data-dir) to score it anyway")
    graded = {name: any(g > 1 for q in qs for g in q.grades.values()) for name, qs in sets.items()}
    services = {
        name: [(f"{build} {r.store.manifest.build_id}: " if previous else "", r.search)
               for build, r in runtimes[where[name].data_dir].items()]
        for name in sets
    }
    scoring = score_sets(sets, services, {name: s.data_dir for name, s in where.items()})
    if as_json:
        report = report_json(scoring.results, graded, scoring.counts, scoring.skipped)
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo("\n".join(scoring.lines))
    if scoring.results:
        typer.echo("Every set side by side (bootstrap 95% interval over each set's queries; mean of"
                   " each set's first metric; hijack@3 pooled over all sets):")
        typer.echo(format_side_by_side(side_by_side(scoring.results, graded)))
