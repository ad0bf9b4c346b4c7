"""`vibeshelf models` (the registry) and `vibeshelf experiments` (bandit update, pin, export)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

import numpy as np
import typer
import yaml  # type: ignore[import-untyped]

from vibeshelf.cli.errors import fail
from vibeshelf.cli.settings import current_settings
from vibeshelf.config.experiment import ExperimentSettings
from vibeshelf.experiment.registry import (
    SURFACES,
    ModelVersion,
    Registry,
    RegistryError,
    RegistryFile,
    now,
)
from vibeshelf.settings import Settings
from vibeshelf.tables import aligned_table, key_values

models_app = typer.Typer(
    help="The model registry: named, immutable versions of search and recommendations to serve side by side.",
    no_args_is_help=True,
)
experiments_app = typer.Typer(
    help="Online experiments: Thompson-sampling weight updates, pinning, Traefik export.",
    no_args_is_help=True,
)

VERSION_COLUMNS = ("SURFACE", "NAME", "STATUS", "WEIGHT", "PINNED", "CREATED", "TARGET")


def _registry(settings: Settings) -> RegistryFile:
    return RegistryFile(settings.experiments_dir)


@models_app.command("list")
def models_list(
    ctx: typer.Context,
    surface: Annotated[str | None, typer.Option(help="Only this surface: search or recommend.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Every version: surface, status, weight, what it points at."""
    _check_surface(surface)
    versions = _registry(current_settings(ctx)).read().versions
    shown = [v for v in versions if surface is None or v.surface == surface]
    if as_json:
        typer.echo(json.dumps([v.model_dump(mode="json") for v in shown], indent=2))
    elif shown:
        typer.echo(aligned_table(VERSION_COLUMNS, (_version_row(v) for v in shown)))
    else:
        typer.echo("no model versions yet: register one with `vibeshelf models add`", err=True)


def _version_row(v: ModelVersion) -> tuple[str, ...]:
    return (
        v.surface, v.name, v.status, f"{v.weight:.2f}%", "yes" if v.pinned else "no", v.created,
        key_values(v.target),
    )


@models_app.command("add")
def models_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Version name: letters, digits, '.', '_' or '-'.")],
    surface: Annotated[str, typer.Option(help="search or recommend.")],
    recs_version: Annotated[
        str | None, typer.Option(help="recommend: a trained model dir under models/recs (default CURRENT).")
    ] = None,
    pipeline: Annotated[
        str, typer.Option(help="recommend: als, or two-stage (needs `vibeshelf train ranker`).")
    ] = "als",
    candidates: Annotated[int | None, typer.Option(help="search: KNN candidates before ranking.")] = None,
    popularity_weight: Annotated[
        float | None, typer.Option(help="search: weight of the popularity term in ranking.")
    ] = None,
    metric: Annotated[
        list[str] | None, typer.Option(help="Offline metric NAME=VALUE (repeatable).")
    ] = None,
) -> None:
    """Register a version (not yet serving: `models activate` puts it into traffic at the floor)."""
    settings = current_settings(ctx)
    _check_surface(surface)
    metrics = _parse_metrics(metric or [])
    target, checksum, found = (
        _search_target(settings, candidates, popularity_weight)
        if surface == "search"
        else _recommend_target(settings, recs_version, pipeline)
    )
    try:
        version = ModelVersion(
            name=name, surface=surface, created=now(), data_checksum=checksum,  # type: ignore[arg-type]
            metrics={**found, **metrics}, target=target,
        )
        with _registry(settings).edit("add") as registry:
            registry.add(version)
    except ValueError as exc:
        fail(str(exc))
    typer.echo(f"added {surface} version {name}: {key_values(target)}")


VersionName = Annotated[str, typer.Argument(help="A version's name (see `vibeshelf models list`).")]


@models_app.command("activate")
def models_activate(ctx: typer.Context, name: VersionName) -> None:
    """Start serving a registered version at the floor weight (100 if it is its surface's first)."""
    _move(ctx, name, "activate")


@models_app.command("retire")
def models_retire(ctx: typer.Context, name: VersionName) -> None:
    """Take an active or registered version out of traffic for good: weight 0 at once, never again."""
    _move(ctx, name, "retire")


def _move(ctx: typer.Context, name: str, verb: Literal["activate", "retire"]) -> None:
    """Activate or retire version `name` within the weight bounds, and say so."""

    def change(registry: Registry, exp: ExperimentSettings) -> None:
        getattr(registry, verb)(name, exp.floor, exp.ceiling)

    _edit(current_settings(ctx), verb, change)
    typer.echo(f"{verb}d {name}")


@experiments_app.command("update")
def experiments_update(ctx: typer.Context) -> None:
    """Recompute every surface's weights by Thompson sampling over the analytics rollup."""
    from vibeshelf.analytics.backends import open_analytics_store
    from vibeshelf.experiment.bandit import update_weights
    from vibeshelf.storage.errors import StorageError

    settings = current_settings(ctx)
    registry_file = _registry(settings)
    if not registry_file.exists():
        fail("no experiment registry: add versions with `vibeshelf models add`")
    try:
        store = open_analytics_store(settings.analytics.store_url, settings.analytics_dir)
        try:
            result = update_weights(
                registry_file, store, settings.experiment, np.random.default_rng(settings.experiment.seed)
            )
        finally:
            store.close()
    except (StorageError, ValueError) as exc:
        fail(str(exc))
    for surface, weights in result.items():
        typer.echo(f"{surface}\t" + "\t".join(f"{n}={w:.2f}%" for n, w in weights.items()))
    if not result:
        typer.echo("no surface has two active versions: nothing to update")


@experiments_app.command("pin")
def experiments_pin(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="An active version.")],
    weight: Annotated[float | None, typer.Option(help="Percent of its surface's traffic.")] = None,
    release: Annotated[bool, typer.Option("--release", help="Unpin: the bandit moves it again.")] = False,
) -> None:
    """Hold a version at a weight by hand (the others share the rest), or --release it."""
    if (weight is None) == (not release):
        fail("give --weight W to pin, or --release to unpin")

    def pin(registry: Registry, exp: ExperimentSettings) -> None:
        version = registry.get(name)
        if version.status != "active":
            raise RegistryError(f"version {name!r} is {version.status}, not active")
        version.pinned = False
        if weight is not None:
            registry.set_weight(version, weight, exp.floor, exp.ceiling)
            version.pinned = True

    _edit(current_settings(ctx), "pin", pin)
    typer.echo(f"pinned {name} at {weight:g}%" if weight is not None else f"released {name}")


@experiments_app.command("export")
def experiments_export(
    ctx: typer.Context,
    traefik: Annotated[bool, typer.Option("--traefik", help="A Traefik weighted-service dynamic config.")] = False,
    service_suffix: Annotated[
        str, typer.Option(help="Suffix of each version's Traefik service name, e.g. @file.")
    ] = "",
) -> None:
    """Write the current weights to stdout (YAML): one weighted service per surface."""
    if not traefik:
        fail("choose an export format: --traefik")
    registry = _registry(current_settings(ctx)).read()
    services: dict[str, Any] = {}
    for surface in SURFACES:
        active = registry.of(surface)
        if active:
            services[f"vibeshelf-{surface}"] = {"weighted": {"services": [
                {"name": f"vibeshelf-{surface}-{v.name}{service_suffix}", "weight": round(v.weight * 100)}
                for v in active
            ]}}
    if not services:
        fail("no active versions to export")
    typer.echo(yaml.safe_dump({"http": {"services": services}}, sort_keys=False), nl=False)


def _edit(settings: Settings, reason: str, change: Callable[[Registry, ExperimentSettings], None]) -> None:
    """Apply `change` to the registry (given the weight bounds), or exit 2 saying why it cannot."""
    try:
        with _registry(settings).edit(reason) as registry:
            change(registry, settings.experiment)
    except ValueError as exc:  # RegistryError, or weights that cannot fit the bounds
        fail(str(exc))


def _check_surface(surface: str | None) -> None:
    if surface is not None and surface not in SURFACES:
        fail(f"unknown surface {surface!r}: expected one of {', '.join(SURFACES)}")


def _parse_metrics(items: list[str]) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            metrics[key.strip()] = float(value)
        except ValueError:
            fail(f"bad --metric {item!r}: expected NAME=NUMBER")
        if not sep or not key.strip():
            fail(f"bad --metric {item!r}: expected NAME=NUMBER")
    return metrics


def _search_target(
    settings: Settings, candidates: int | None, popularity_weight: float | None
) -> tuple[dict[str, Any], str, dict[str, float]]:
    """The served index build and encoder, plus ranking overrides validated against the settings."""
    from vibeshelf.config.core import SearchSettings
    from vibeshelf.index.factory import open_store
    from vibeshelf.storage.errors import StoreError

    ranking = {"candidates": candidates, "popularity_weight": popularity_weight}
    try:
        SearchSettings.model_validate({k: v for k, v in ranking.items() if v is not None})
        manifest = open_store(settings).manifest
    except (ValueError, StoreError, FileNotFoundError) as exc:
        fail(f"cannot register a search version: {exc}")
    target = {"index_build": manifest.build_id, "model": manifest.model_version, "ranking": ranking}
    return target, manifest.catalog_checksum, {}


def _recommend_target(
    settings: Settings, recs_version: str | None, pipeline: str
) -> tuple[dict[str, Any], str, dict[str, float]]:
    """A trained recs model dir (default CURRENT) and the pipeline serving it, its data checksum
    and holdout metrics."""
    from vibeshelf.recommend.artifacts import (
        ModelNotFoundError,
        current_version,
        load_metadata,
        recs_root,
    )

    root = recs_root(settings)
    version = recs_version or current_version(root)
    if version is None:
        fail(f"no recommender model in {root}: run `vibeshelf train recs` first")
    try:
        meta = load_metadata(root, version)
    except ModelNotFoundError as exc:
        fail(str(exc))
    if pipeline not in ("als", "two-stage"):
        fail(f"--pipeline must be als or two-stage, not {pipeline!r}")
    if pipeline == "two-stage" and current_version(settings.models_dir / "ranker") is None:
        fail("no two-stage ranker: run `vibeshelf train ranker` first")
    als = (meta.get("metrics") or {}).get("als", {})
    found = {k: float(v) for k, v in als.items() if isinstance(v, int | float)}
    target = {"recs_version": version, "pipeline": pipeline}
    return target, str(meta.get("data_checksum", "")), found
