"""`vibeshelf model export|info`: the sentence-embedding model."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from vibeshelf.cli.errors import fail
from vibeshelf.cli.loading import load_encoder
from vibeshelf.cli.settings import current_settings

model_app = typer.Typer(help="Export and inspect the sentence-embedding model.", no_args_is_help=True)


@model_app.command("export")
def model_export(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option("--model", help="Model name (default from settings).")] = None,
    variant: Annotated[str, typer.Option(help="int8 or fp32.")] = "int8",
) -> None:
    """Export a sentence-transformers model to a fused ONNX graph (needs torch==2.13.0)."""
    from vibeshelf.embed.export import ExportError, export_model

    settings = current_settings(ctx)
    name = name or settings.model.name
    try:
        report = export_model(name, settings.models_dir / name / variant, variant=variant)
    except ExportError as exc:
        fail(str(exc))
    typer.echo(json.dumps(report.to_dict(), indent=2))


@model_app.command("info")
def model_info(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Show the model that would serve, and where it is loaded from."""
    encoder = load_encoder(current_settings(ctx))
    info = {
        "name": encoder.name, "version": encoder.version, "dim": encoder.dim,
        "path": str(encoder.model_dir),
    }
    text = "\n".join(f"{key:<8} {value}" for key, value in info.items())
    typer.echo(json.dumps(info, indent=2) if as_json else text)
