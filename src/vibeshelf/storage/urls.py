"""Server URLs as they may appear in logs and error messages."""

from __future__ import annotations

from urllib.parse import urlsplit


def redacted(url: str) -> str:
    """A server URL (Redis, PostgreSQL) without its password, for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()
