"""The root `vibeshelf` app: global options, the command tree, and `main`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vibeshelf import __version__
from vibeshelf.cli.catalog import ingest_app
from vibeshelf.cli.demo import demo
from vibeshelf.cli.embed import embed
from vibeshelf.cli.experiments import experiments_app, models_app
from vibeshelf.cli.features import features_app
from vibeshelf.cli.help import build_cli
from vibeshelf.cli.index import index
from vibeshelf.cli.model import model_app
from vibeshelf.cli.ranker import train_ranker_cmd
from vibeshelf.cli.recommend import eval_recs_cmd, interactions_app, train_app
from vibeshelf.cli.search import eval_search_cmd, search
from vibeshelf.cli.serve import serve
from vibeshelf.cli.settings import read_settings
from vibeshelf.cli.train_recs import train_recs_cmd
from vibeshelf.cli.two_tower import eval_two_tower_cmd, train_two_tower_cmd
from vibeshelf.cli.worker import worker
from vibeshelf.logs import command_log_level, configure_logging

app = typer.Typer(
    help="Find books by vibe and recommend the next one: ingest, embed, index, search, train, serve.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
eval_app = typer.Typer(help="Evaluate models offline.", no_args_is_help=True)
eval_app.command("recs")(eval_recs_cmd)
eval_app.command("search")(eval_search_cmd)
train_app.command("recs")(train_recs_cmd)
train_app.command("ranker")(train_ranker_cmd)
eval_app.command("two-tower")(eval_two_tower_cmd)
train_app.command("two-tower")(train_two_tower_cmd)
ingest_app.add_typer(interactions_app, name="interactions")
for group, name in (
    (ingest_app, "ingest"), (model_app, "model"), (train_app, "train"), (eval_app, "eval"),
    (models_app, "models"), (experiments_app, "experiments"), (features_app, "features"),
):
    app.add_typer(group, name=name)
for command in (embed, index, search, serve, demo, worker):
    app.command()(command)


def _print_version(value: bool) -> None:
    """`--version`: print `vibeshelf <version>` and exit 0."""
    if value:
        typer.echo(f"vibeshelf {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
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
    """Global options join the config file and environment in the settings every command runs with.

    Commands log only warnings and errors unless a log level is set (-v, --log-level, the
    environment or the config file); `serve` logs at the configured level (INFO by default).
    """
    if verbose and log_level is None:
        log_level = "INFO"
    settings = read_settings(config, data_dir=data_dir, log_format=log_format, log_level=log_level)
    configure_logging(settings.log_format, command_log_level(settings))
    ctx.obj = settings


def main() -> None:
    """The `vibeshelf` console script."""
    build_cli(app)()
