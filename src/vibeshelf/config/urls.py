"""URL schemes of every store and database, the backend each names, and the one check of them."""

from __future__ import annotations

from pathlib import Path

from vibeshelf.config.extras import require_extra

# URL scheme -> backend.
SCHEMES: dict[str, str] = {
    "memory": "memory",
    "hnsw": "hnsw",
    "sqlite": "sqlite",
    "redis": "redis",
    "rediss": "redis",
    "unix": "redis",
    "postgresql": "postgresql",
    "postgres": "postgresql",
}
# Backend -> the optional extra holding its client library.
BACKEND_EXTRAS: dict[str, str] = {"redis": "redis", "postgresql": "postgres"}


def scheme_of(url: str) -> str:
    """The URL's scheme ("" when it has none)."""
    return url.split("://", 1)[0] if "://" in url else ""


def url_path(url: str) -> str:
    """What follows the URL's `scheme://` (the whole string when it has none)."""
    return url.split("://", 1)[-1]


def backend_of(url: str) -> str | None:
    """The backend a URL names, or None for an unknown scheme."""
    return SCHEMES.get(scheme_of(url))


def check_url(url: str, what: str, backends: tuple[str, ...], expected: str) -> str:
    """`url` when it names one of `backends` whose client is installed; else a ValueError saying
    what `what` expects, or a MissingExtraError naming the extra to install."""
    backend = backend_of(url)
    if backend not in backends:
        raise ValueError(f"unsupported {what} URL scheme {scheme_of(url)!r}: expected {expected}")
    if backend in BACKEND_EXTRAS:
        require_extra(BACKEND_EXTRAS[backend], f"{what} URL {scheme_of(url)}://")
    return url


def check_database_url(url: str, what: str) -> str:
    """`url` when it names SQLite or PostgreSQL; else a ValueError naming `what` it was for."""
    return check_url(url, what, ("sqlite", "postgresql"), "sqlite://[path] or postgresql://...")


def sqlite_file(url: str, default: Path, what: str) -> Path | None:
    """The SQLite file a `sqlite://[path]` URL names (`default` without a path); None for PostgreSQL."""
    if backend_of(check_database_url(url, what)) != "sqlite":
        return None
    path = url_path(url)
    return Path(path) if path else default
