"""Plain-text tables for the command line: a header and left-aligned columns, two spaces apart."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

GAP = "  "


def aligned_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """The header and the rows, each column as wide as its widest cell."""
    lines = [list(header), *(list(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        GAP.join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def key_values(mapping: Mapping[str, Any]) -> str:
    """A nested mapping as `key=value` words (nested keys flattened, None values left out)."""
    words = []
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            words.append(key_values(value))
        elif value is not None:
            words.append(f"{key}={value}")
    return " ".join(word for word in words if word)
