"""Speaking RediSearch: filters as query text, records as hashes, vectors in a build's dtype."""

from __future__ import annotations

from typing import Any

import numpy as np

from vibeshelf.index import storelib
from vibeshelf.index.base import IndexManifest
from vibeshelf.index.filters import NUMERIC_FIELDS, TAG_FIELDS, Filter, Range, Tag

# Each dtype as RediSearch's vector TYPE and the little-endian bytes stored in the hash.
VECTOR_TYPES: dict[str, tuple[str, str]] = {
    "float32": ("FLOAT32", "<f4"),
    "float16": ("FLOAT16", "<f2"),
}


def redis_query(filters: Filter) -> str:
    """The RediSearch query text for `filters`: clauses ANDed by juxtaposition."""
    return " ".join(_clause(c) for c in filters.clauses)


def _clause(clause: Tag | Range) -> str:
    if isinstance(clause, Tag):
        return f"@{clause.field}:{{{'|'.join(_escape_tag(v) for v in sorted(clause.values))}}}"
    low = "-inf" if clause.low is None else repr(float(clause.low))
    high = "+inf" if clause.high is None else repr(float(clause.high))
    return f"@{clause.field}:[{low} {high}]"


def _escape_tag(value: str) -> str:
    """Backslash every character RediSearch's tokenizer would split on."""
    return "".join(c if c.isalnum() or c == "_" else "\\" + c for c in value)


def document(rid: str, vector: np.ndarray, fields: dict[str, Any]) -> dict[str, Any]:
    """The hash for one record; missing numbers and empty tags are left out, so they never match."""
    doc: dict[str, Any] = {"id": rid, "vec": vector.tobytes()}
    for name in NUMERIC_FIELDS:
        number = storelib.as_number(fields.get(name))
        if number is not None:
            doc[name] = number
    for name in TAG_FIELDS:
        tags = [t.replace(",", " ") for t in storelib.as_tags(fields.get(name))]
        if tags:
            doc[name] = ",".join(tags)
    return doc


def as_stored(vector: np.ndarray, manifest: IndexManifest) -> np.ndarray:
    """A query as one flat vector in the build's stored little-endian dtype."""
    return np.asarray(vector, dtype=VECTOR_TYPES[storelib.build_dtype(manifest)][1]).reshape(-1)


def cosine(stored: np.ndarray, unit_query: np.ndarray) -> float:
    """Cosine of a unit query and a stored vector (float16 ones are not quite unit length)."""
    vector = stored.astype(np.float32)
    return float(vector @ unit_query / np.linalg.norm(vector))
