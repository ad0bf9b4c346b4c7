"""What the vector store backends share: build ids, manifest stamping and field normalisation."""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from vibeshelf.config.core import VectorDtype
from vibeshelf.index.base import IndexManifest
from vibeshelf.index.filters import normalize_tag

log = logging.getLogger("vibeshelf.index")


def new_build_id() -> str:
    """Sortable by time, unique across processes: 20260101T120000123456-1a2b3c."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6]


def stamp(
    manifest: IndexManifest, build_id: str, started: float, params: dict[str, Any]
) -> IndexManifest:
    """The manifest of a finished build: its id, time, duration and graph parameters."""
    return replace(
        manifest,
        build_id=build_id,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - started, 3),
        params=params,
    )


def build_dtype(manifest: IndexManifest) -> VectorDtype:
    """How a build keeps its vectors (a build made before the setting existed: float32)."""
    return manifest.params.get("vector_dtype", "float32")  # type: ignore[no-any-return]


def pop_url_option(url: str, name: str, default: str) -> tuple[str, str]:
    """`url` without the query option `name`, and that option's value (or `default`)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    value = query.pop(name, [default])[0]
    return parts._replace(query=urlencode(query, doseq=True, quote_via=quote)).geturl(), value


def down(backend: str, where: str) -> dict[str, Any]:
    """A server store's health before it has been checked: not ok, nothing served."""
    return {"ok": False, "backend": backend, "url": where, "count": 0, "build_id": None}


def log_build(manifest: IndexManifest) -> None:
    log.debug(  # the CLI prints it
        "%s build %s: %d vectors in %.1fs",
        manifest.backend,
        manifest.build_id,
        manifest.count,
        manifest.build_seconds,
    )


def check_dim(what: str, dim: int, manifest: IndexManifest) -> None:
    """A ValueError when a query or records do not have the index's dimension."""
    if dim != manifest.dim:
        raise ValueError(f"{what} has dim {dim}, index has {manifest.dim}")


def as_number(value: Any) -> float | None:
    """A numeric field as a float; None (missing) for None or NaN."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def as_tags(value: Any) -> list[str]:
    """A tag field (one string, a list or None) as normalised, non-empty tags."""
    if value is None:
        return []
    values = [value] if isinstance(value, str) else list(value)
    return [normalize_tag(v) for v in values if v]
