"""The `vibeshelf` command line: one subcommand per stage, plus `demo` that runs them all."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import shutil
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, get_args

import typer

from vibeshelf import __version__
from vibeshelf.cli_help import build_cli
from vibeshelf.config.core import Apis, EmbedEngine, EmbedSettings
from vibeshelf.config.extras import MissingExtraError, require_extra
from vibeshelf.experiment.commands import experiments_app, models_app
from vibeshelf.logs import command_log_level, configure_logging
from vibeshelf.recommend.commands import (
    eval_app,
    interactions_app,
    train_app,
    train_recs_cmd,
)
from vibeshelf.recommend.commands import ingest_sample_cmd as ingest_ratings_sample_cmd
from vibeshelf.search.models import RATING_MAX, RATING_MIN, YEAR_MAX, YEAR_MIN
from vibeshelf.serve.launch import exec_gunicorn, run_uvicorn
from vibeshelf.settings import CONFIG_ENV, Settings, get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from vibeshelf.embed.encoder import OnnxEncoder
    from vibeshelf.embed.ray_engine import RayEncoder
    from vibeshelf.embed.vectors import EmbeddingManifest, Field
    from vibeshelf.serve.runtime import Runtime

log = logging.getLogger("vibeshelf")

app = typer.Typer(
    help="Find books by vibe and recommend the next one: ingest, embed, index, search, train, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
ingest_app = typer.Typer(help="Build the clean books table (Parquet) from raw files.", no_args_is_help=True)
model_app = typer.Typer(help="Export and inspect the sentence-embedding model.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(model_app, name="model")
ingest_app.add_typer(interactions_app, name="interactions")
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")
app.add_typer(models_app, name="models")
app.add_typer(experiments_app, name="experiments")


class SearchMode(str, Enum):
    """Retrieval modes for `search --mode`."""

    vector = "vector"
    lexical = "lexical"
    hybrid = "hybrid"


def fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(2)


def _print_version(value: bool) -> None:
    """`--version`: print `vibeshelf <version>` and exit 0."""
    if value:
        typer.echo(f"vibeshelf {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    data_dir: Annotated[
        Path | None, typer.Option(help="Data directory (catalog, vectors, index, logs).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="TOML config file (default: ./vibeshelf.toml if present).")
    ] = None,
    log_format: Annotated[str | None, typer.Option(help="Log format: text or json.")] = None,
    log_level: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show INFO logs on stderr (--log-level INFO).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Global options become environment settings, so worker processes see them too.

    Commands log only warnings and errors unless a log level is set (-v, --log-level, the
    environment or the config file); `serve` logs at the configured level (INFO by default).
    """
    if verbose and log_level is None:
        log_level = "INFO"
    if config is not None:
        if not config.is_file():
            fail(f"config file {config} does not exist")
        os.environ[CONFIG_ENV] = str(config)
    for name, value in (("DATA_DIR", data_dir), ("LOG_FORMAT", log_format), ("LOG_LEVEL", log_level)):
        if value is not None:
            os.environ[f"VIBESHELF_{name}"] = str(value)
    get_settings.cache_clear()
    settings = _settings()
    configure_logging(settings.log_format, command_log_level(settings))


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        fail(f"invalid settings: {exc}")


# ---- ingest ------------------------------------------------------------------------------
def _report(report: object) -> None:
    typer.echo(report.summary())  # type: ignore[attr-defined]


@ingest_app.command("goodbooks")
def ingest_goodbooks_cmd(
    source: Annotated[
        Path | None, typer.Option(help="Folder holding goodbooks-10k/, goodbooks-shelves/, book-descriptions/.")
    ] = None,
) -> None:
    """Join the goodbooks-10k catalog, shelves and descriptions into the books table."""
    from vibeshelf.catalog.goodbooks import ingest_goodbooks
    from vibeshelf.catalog.table import CatalogError

    settings = _settings()
    try:
        _report(ingest_goodbooks(source or settings.catalog.source_dir, settings.books_path))
    except CatalogError as exc:
        fail(str(exc))


@ingest_app.command("file")
def ingest_file_cmd(
    path: Annotated[Path, typer.Argument(help="A CSV, JSONL or Parquet file of books.")],
    mapping: Annotated[
        list[str],
        typer.Option("--map", "-m", help="OURS=THEIRS column mapping; book_id and title required."),
    ],
    fmt: Annotated[str | None, typer.Option("--format", help="csv, jsonl or parquet (default: from suffix).")] = None,
) -> None:
    """Ingest your own catalog, e.g. `--map book_id=id --map title=Title --map authors=Author`."""
    from vibeshelf.catalog.custom import ingest_file
    from vibeshelf.catalog.table import CatalogError

    pairs = dict(item.split("=", 1) for item in mapping if "=" in item)
    if len(pairs) != len(mapping):
        fail("each --map must look like OURS=THEIRS, e.g. --map title=Title")
    try:
        _report(ingest_file(path, pairs, _settings().books_path, fmt))
    except CatalogError as exc:
        fail(str(exc))


@ingest_app.command("sample")
def ingest_sample_cmd() -> None:
    """Use the bundled sample catalog (a few thousand goodbooks books)."""
    from vibeshelf.catalog.sample import install_sample
    from vibeshelf.catalog.table import CatalogError

    try:
        _report(install_sample(_settings().books_path))
    except CatalogError as exc:
        fail(str(exc))


# ---- embed / index ---------------------------------------------------------------------
@app.command()
def embed(
    batch_size: Annotated[int | None, typer.Option(help="Texts per encoder batch.")] = None,
    engine: Annotated[
        EmbedEngine | None,
        typer.Option(help="local: this process; ray: shards over a Ray cluster (default from settings)."),
    ] = None,
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster to join, e.g. auto (default: start a local one).")
    ] = None,
    shard_size: Annotated[int | None, typer.Option(min=1, help="Documents per Ray shard.")] = None,
) -> None:
    """Encode every book's document and description with the configured model.

    The description vectors feed the rerank; unchanged vectors are reused.
    """
    from vibeshelf.catalog.table import catalog_checksum
    from vibeshelf.embed.ray_engine import RayEngineError
    from vibeshelf.embed.vectors import Field, embed_catalog

    settings = _settings()
    if not settings.books_path.is_file():
        fail(f"no catalog at {settings.books_path}: run `vibeshelf ingest` first")
    options = settings.embed.model_copy(
        update={k: v for k, v in {"engine": engine, "ray_address": ray_address,
                                   "shard_size": shard_size}.items() if v is not None}
    )
    local = None if options.engine == "ray" else _load_encoder(settings, bulk=True)
    checksum = catalog_checksum(settings.books_path)
    done: dict[str, EmbeddingManifest] = {}
    for field in get_args(Field):
        encoder = local or _ray_encoder(settings, options, field)
        try:
            result = embed_catalog(
                settings.books_path,
                checksum,
                encoder,
                settings.embeddings_dir,
                batch_size=batch_size or settings.model.batch_size,
                field=field,
            )
        except RayEngineError as exc:
            fail(str(exc))
        done[field] = result.manifest
    _embed_summary(done)


def _embed_summary(done: dict[str, EmbeddingManifest]) -> None:
    """One line for every field embedded: counts per field, vectors encoded and reused, seconds."""
    counts = " and ".join(f"{m.count} {field}s" for field, m in done.items())
    manifests = done.values()
    typer.echo(
        f"embedded {counts} with {next(iter(manifests)).model_version} "
        f"({sum(m.encoded for m in manifests)} encoded, {sum(m.reused for m in manifests)} reused) "
        f"in {sum(m.seconds for m in manifests):.2f}s"
    )


def _ray_encoder(settings: Settings, options: EmbedSettings, field: Field) -> RayEncoder:
    from vibeshelf.embed.encoder import ModelNotFoundError
    from vibeshelf.embed.ray_engine import RayEncoder, RayEngineError
    from vibeshelf.embed.vectors import embeddings_path

    shards_dir = embeddings_path(settings.embeddings_dir, settings.model.name, field).with_suffix(
        ".shards"
    )
    try:
        return RayEncoder(
            settings.model, settings.models_dir, shards_dir, shard_size=options.shard_size,
            address=options.ray_address, actors=options.ray_actors,
        )
    except (RayEngineError, ModelNotFoundError) as exc:
        fail(str(exc))


@app.command()
def index() -> None:
    """Build the BM25 and vector indexes from the catalog and its embeddings, published as one
    pair (a crash leaves the old pair served); concurrent runs wait for each other."""
    from vibeshelf.catalog.books import BookCatalog
    from vibeshelf.catalog.table import CatalogError, catalog_checksum
    from vibeshelf.embed.vectors import load_embeddings
    from vibeshelf.index.build import StaleEmbeddingsError, build_index, check_embeddings
    from vibeshelf.index.factory import open_store
    from vibeshelf.search.lexical import LexicalStore
    from vibeshelf.storage import builds

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with builds.exclusive(settings.data_dir / builds.INDEX_LOCK, f"the indexes of {settings.data_dir}"):
        try:
            embeddings = load_embeddings(settings.embeddings_dir, settings.model.name)
            catalog = BookCatalog.load(settings.books_path)
            checksum = catalog_checksum(settings.books_path)
            check_embeddings(embeddings, checksum)
            lexical_store = LexicalStore(settings.lexical_dir, settings.store.keep_builds)
            lexical = lexical_store.rebuild_from_catalog(settings.books_path, checksum, point=False)
            manifest = build_index(
                open_store(settings, load=False), catalog, checksum, embeddings, lexical.manifest.build_id
            )
            paired = builds.manifest_values(settings.index_dir, "lexical_build")
            lexical_store.prune(paired | {manifest.lexical_build})
        except (FileNotFoundError, StaleEmbeddingsError, CatalogError) as exc:
            fail(str(exc))
    typer.echo(
        f"indexed {manifest.count} books: {manifest.backend} build {manifest.build_id} in "
        f"{manifest.build_seconds}s, BM25 build {lexical.manifest.build_id} in "
        f"{lexical.manifest.build_seconds}s"
    )


# ---- search / serve ----------------------------------------------------------------------
@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What the book feels like.")],
    limit: Annotated[int, typer.Option(min=1, max=500, help="Results to show.")] = 10,
    shelf: Annotated[list[str] | None, typer.Option(help="Keep books on this shelf (repeatable).")] = None,
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
    from vibeshelf.search.models import SearchParams
    from vibeshelf.search.query import QueryError

    settings = _settings()
    settings = settings.model_copy(
        update={"serve": settings.serve.model_copy(update={"query_log": False})}
    )
    params = SearchParams(
        q=query, limit=limit, shelves=shelf or [], year_min=year_min, year_max=year_max,
        min_rating=min_rating, language=language, mode=mode.value if mode else None, explain=explain,
    )
    runtime = _load_runtime(settings)
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
            )
    typer.echo(f"{len(response.results)} results in {response.took_ms:.1f} ms", err=True)


@eval_app.command("search")
def eval_search_cmd(
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

    settings = _settings()
    search = settings.search.model_copy(update={"query_cache_size": 0, "max_limit": 50})
    settings = settings.model_copy(
        update={"search": search, "serve": settings.serve.model_copy(update={"query_log": False})}
    )
    try:
        sets = {path.stem: load_queries(path) for path in queries}
    except EvalSetError as exc:
        fail(str(exc))
    runtimes = {"current": _load_runtime(settings)}
    if not allow_leak:
        shelf_counts = runtimes["current"].catalog.shelf_counts
        try:
            for name, qs in sets.items():
                check_holdout(qs, shelf_counts, f"{name} on {settings.data_dir}")
        except EvalSetError as exc:
            fail(f"{exc}; or pass --allow-leak to score it anyway")
    if previous:
        runtimes["previous"] = _load_runtime(settings, previous=True)
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


def _load_encoder(settings: Settings, *, bulk: bool = False) -> OnnxEncoder:
    from vibeshelf.embed.encoder import ModelNotFoundError, load_encoder

    try:
        return load_encoder(settings.model, settings.models_dir, bulk=bulk)
    except ModelNotFoundError as exc:
        fail(str(exc))


def _load_runtime(settings: Settings, previous: bool = False) -> Runtime:
    from vibeshelf.embed.encoder import ModelNotFoundError
    from vibeshelf.serve.runtime import Runtime
    from vibeshelf.storage.errors import StoreError

    try:
        return Runtime.load(settings, previous=previous)
    except (FileNotFoundError, StoreError, ModelNotFoundError, RuntimeError) as exc:
        fail(str(exc))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings).")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes (>1 uses gunicorn).")] = None,
    only: Annotated[
        Apis | None,
        typer.Option(
            "--only",
            help="search: the page, /api/* and /health; encode: the /v1 embedding service "
            "(needs only the model); all: both. Default from settings (search).",
        ),
    ] = None,
    no_auth: Annotated[
        bool,
        typer.Option(
            "--no-auth",
            help="Serve without credentials (loopback hosts only): /v1, reader events and "
            "recommendations for a user_id open to anyone who can reach the server.",
        ),
    ] = False,
    allow_public_no_auth: Annotated[
        bool,
        typer.Option(
            "--allow-public-no-auth",
            help="With --no-auth, bind a non-loopback host anyway (insecure).",
        ),
    ] = False,
) -> None:
    """Serve the web page and JSON API with uvicorn (gunicorn + uvicorn workers when --workers > 1)."""
    overrides: dict[str, str] = {"VIBESHELF_SERVE__APIS": only} if only is not None else {}
    if no_auth:
        overrides["VIBESHELF_AUTH__ENABLED"] = "false"
    settings = _settings_with(overrides)
    if settings.serve.apis != "search" and "threads" not in settings.model.model_fields_set:
        # /v1 runs `encode.workers` single-threaded encoder runs side by side, which under load
        # beats runs spread over every core (bench/encode.py).
        settings = _settings_with({"VIBESHELF_MODEL__THREADS": "1"})
    host = host or settings.serve.host
    port = port or settings.serve.port
    workers = workers or settings.serve.workers
    if workers > 1:
        try:
            require_extra("server", "--workers > 1 (gunicorn with uvicorn workers)")
        except MissingExtraError as exc:
            fail(str(exc))
    configure_logging(settings.log_format, settings.log_level)
    _check_serving(settings, host, allow_public_no_auth)
    if workers == 1:
        run_uvicorn(_loaded_app(settings), host, port)
        return
    _check_loads(settings)
    # Split the cores between workers unless the thread count was chosen explicitly.
    os.environ.setdefault("VIBESHELF_MODEL__THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
    _share_metrics(settings.data_dir / "run" / f"metrics-{port}")
    exec_gunicorn(host, port, workers, settings.log_level)


def _share_metrics(path: Path) -> None:
    """Let gunicorn's workers keep their Prometheus counts in files under `path`, emptied now, so
    /metrics on any worker reports them all (unless PROMETHEUS_MULTIPROC_DIR names a dir already)."""
    from vibeshelf.serve.metrics import MULTIPROC_ENV

    if os.environ.get(MULTIPROC_ENV):
        return
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path)


def _settings_with(env: dict[str, str]) -> Settings:
    """The settings after `env` joins the environment (where gunicorn's workers see it too)."""
    os.environ.update(env)
    get_settings.cache_clear()
    return _settings()


def _check_serving(settings: Settings, host: str, allow_public_no_auth: bool) -> None:
    """Fail fast, with a clear message, before binding a port."""
    from vibeshelf.serve.auth import AuthConfigError, Authenticator

    try:
        Authenticator(settings.auth)
    except AuthConfigError as exc:
        fail(str(exc))
    if not settings.auth.enabled:
        if not _is_loopback(host) and not allow_public_no_auth:
            fail(
                f"--no-auth would open /v1 and readers' events and recommendations to anyone who "
                f"can reach {host}: bind 127.0.0.1, configure API keys or a JWT secret, or pass "
                "--allow-public-no-auth"
            )
        v1 = "use /v1, " if settings.serve.apis != "search" else ""
        typer.secho(
            f"AUTH IS OFF: anyone who can reach {host} may {v1}write any reader's events and "
            "read any reader's recommendations",
            err=True, fg=typer.colors.YELLOW,
        )


def _loaded_app(settings: Settings) -> FastAPI:
    """The app with what it serves loaded here, once; exit 2 with a clear message when there is
    nothing to serve yet."""
    from vibeshelf.serve.app import create_app

    if settings.serve.apis == "encode":
        return create_app(settings, encoder=_load_encoder(settings))
    return create_app(settings, runtime=_load_runtime(settings))


def _check_loads(settings: Settings) -> None:
    """Load what gunicorn's workers will serve and let it go (each worker loads its own), so that
    nothing to serve yet fails here, with a clear message, rather than in every worker."""
    if settings.serve.apis == "encode":
        _load_encoder(settings)
    else:
        _load_runtime(settings).close()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build everything, then stop.")] = False,
) -> None:
    """Ingest the bundled sample, embed it, index it, train the recommender and serve it all.

    Without API keys or a JWT secret the demo serves without auth on a loopback host only.
    """
    open_demo = not _settings().auth.configured
    if open_demo and not no_serve and not _is_loopback(host):
        fail(
            f"the demo serves without auth only on a loopback host, not {host}: bind 127.0.0.1, "
            "or configure VIBESHELF_AUTH__API_KEYS or VIBESHELF_AUTH__JWT_SECRET"
        )
    ingest_sample_cmd()
    embed()
    index()
    ingest_ratings_sample_cmd()
    train_recs_cmd(evaluate=False)
    if not no_serve:
        serve(host=host, port=port, workers=1, no_auth=open_demo)


# ---- model -----------------------------------------------------------------------------
@model_app.command("export")
def model_export(
    name: Annotated[str | None, typer.Option("--model", help="Model name (default from settings).")] = None,
    variant: Annotated[str, typer.Option(help="int8 or fp32.")] = "int8",
) -> None:
    """Export a sentence-transformers model to a fused ONNX graph (needs torch==2.13.0)."""
    from vibeshelf.embed.export import ExportError, export_model

    settings = _settings()
    name = name or settings.model.name
    try:
        report = export_model(name, settings.models_dir / name / variant, variant=variant)
    except ExportError as exc:
        fail(str(exc))
    typer.echo(json.dumps(report.to_dict(), indent=2))


@model_app.command("info")
def model_info(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Show the model that would serve, and where it is loaded from."""
    encoder = _load_encoder(_settings())
    info = {
        "name": encoder.name, "version": encoder.version, "dim": encoder.dim,
        "path": str(encoder.model_dir),
    }
    text = "\n".join(f"{key:<8} {value}" for key, value in info.items())
    typer.echo(json.dumps(info, indent=2) if as_json else text)


def main() -> None:
    build_cli(app)()
