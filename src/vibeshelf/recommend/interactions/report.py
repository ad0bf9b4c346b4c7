"""What an interactions ingest read, kept and dropped; the error for a file it cannot read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class IngestError(RuntimeError):
    """A file cannot be read at all (missing, not the format it claims, wrong columns)."""


@dataclass
class InteractionsReport:
    """What one source received and what was dropped, by reason."""

    source: str
    path: str
    rows_read: int = 0
    rows_kept: int = 0
    users: int = 0
    items: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> str:
        who = f"{self.users:,} users, " if self.users else ""
        line = (
            f"{self.source}: {self.rows_read:,} rows read from {self.path}, {self.rows_kept:,} kept "
            f"({who}{self.items:,} items)"
        )
        if not self.dropped:
            return line + "; nothing dropped"
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in sorted(self.dropped.items()))
        return f"{line}; dropped: {reasons}"


def require_file(path: Path) -> None:
    """IngestError unless `path` is a file."""
    if not path.is_file():
        raise IngestError(f"{path}: no such file")
