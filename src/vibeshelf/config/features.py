"""Feature store settings: where the online store lives and which candidate sources the ranker reads."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field

from vibeshelf.config.urls import check_url

# A candidate source's name as it appears in feature names (score_<name>, rank_<name>).
SourceName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")]


def check_online_url(url: str) -> str:
    """A `sqlite://[path]` or `redis://[:password@]host[:port][/db]` URL; else a ValueError."""
    check_url(url, "feature store", ("sqlite", "redis"), "sqlite://[path] or redis://host:port[/db]")
    if url.startswith("unix://"):
        raise ValueError("the feature store reaches Redis over TCP: use redis://host:port[/db]")
    return url


def redis_connection_string(url: str) -> str:
    """Feast's Redis connection string (`host:port,db=N[,password=...][,ssl=true]`) for a URL."""
    parts = urlsplit(url)
    db = parts.path.strip("/") or "0"
    if not db.isdigit():
        raise ValueError(f"redis database must be a number, not {db!r}")
    options = [f"{parts.hostname or 'localhost'}:{parts.port or 6379}", f"db={db}"]
    if parts.password:
        options.append(f"password={parts.password}")
    if parts.scheme == "rediss":
        options.append("ssl=true")
    return ",".join(options)


def check_unique(names: list[str]) -> list[str]:
    """`names` when none repeats; else a ValueError naming the repeats."""
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"candidate sources named twice: {repeated}")
    return names


class FeatureStoreSettings(BaseModel):
    """The Feast feature store of the ranker: offline Parquet in <data_dir>/features, online store
    at `url` (sqlite:// = <data_dir>/features/online.sqlite3), and the candidate sources whose
    score and rank each (reader, book) carries as request data."""

    url: Annotated[str, AfterValidator(check_online_url)] = "sqlite://"
    sources: Annotated[list[SourceName], AfterValidator(check_unique)] = Field(
        default=["als", "item_item", "two_tower", "vector", "genre_popular"], min_length=1
    )
