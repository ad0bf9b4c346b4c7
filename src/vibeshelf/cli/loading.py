"""Load the encoder or the search runtime for a command, failing with a clear message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vibeshelf.cli.errors import fail
from vibeshelf.settings import Settings

if TYPE_CHECKING:
    from vibeshelf.embed.encoder import OnnxEncoder
    from vibeshelf.serve.runtime import Runtime


def load_encoder(settings: Settings, *, bulk: bool = False) -> OnnxEncoder:
    """The configured sentence encoder (`bulk`: tuned for large batches)."""
    from vibeshelf.embed.encoder import ModelNotFoundError
    from vibeshelf.embed.encoder import load_encoder as load

    try:
        return load(settings.model, settings.models_dir, bulk=bulk)
    except ModelNotFoundError as exc:
        fail(str(exc))


def load_runtime(settings: Settings, previous: bool = False) -> Runtime:
    """What search serves: catalog, indexes and encoder (`previous`: the build before the current)."""
    from vibeshelf.embed.encoder import ModelNotFoundError
    from vibeshelf.serve.runtime import Runtime
    from vibeshelf.storage.errors import StoreError

    try:
        return Runtime.load(settings, previous=previous)
    except (FileNotFoundError, StoreError, ModelNotFoundError, RuntimeError) as exc:
        fail(str(exc))
