"""Field types the settings sections share: each bound and URL check stated once."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from vibeshelf.config.urls import check_database_url

# Threads or processes of one kind on one machine.
Threads = Annotated[int, Field(ge=1, le=64)]
# A request body limit in bytes (413 beyond it).
BodyBytes = Annotated[int, Field(ge=1024, le=256 * 1024 * 1024)]
# A weight or share between 0 and 1.
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
# Entries an in-process LRU keeps (0: no cache).
CacheEntries = Annotated[int, Field(ge=0, le=10_000_000)]


def database_url(what: str) -> AfterValidator:
    """Checks a `sqlite://[path]` or `postgresql://...` URL, naming `what` it is for when it is not."""
    return AfterValidator(lambda url: check_database_url(url, what))
