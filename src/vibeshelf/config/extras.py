"""Optional extras: the server clients a laptop install leaves out, and the message naming each."""

from __future__ import annotations

import importlib.util

# Extra -> the modules it installs (`pip install 'vibeshelf[<extra>]'`).
EXTRAS: dict[str, tuple[str, ...]] = {
    "postgres": ("psycopg",),
    "redis": ("redis",),
    "server": ("gunicorn", "uvicorn_worker"),
    "ranker": ("lightgbm", "feast"),
    "analytics": ("celery", "redis"),
    "train": ("torch", "onnx"),
    "spark": ("pyspark",),
}


class MissingExtraError(ValueError):
    """A URL or option needs an optional extra that is not installed."""


def require_extra(extra: str, what: str) -> None:
    """MissingExtraError naming the extra when one of its modules is not installed."""
    missing = [name for name in EXTRAS[extra] if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtraError(
            f"{what} needs the {extra} extra ({', '.join(missing)} not installed): "
            f"pip install 'vibeshelf[{extra}]'"
        )
