"""The core settings sections: catalog, model, embed, vector store, search and serve."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from vibeshelf.config.extras import require_extra
from vibeshelf.config.fields import BodyBytes, CacheEntries, Fraction, Threads
from vibeshelf.config.lexical import LexicalFieldWeights
from vibeshelf.config.urls import backend_of, check_url

# search: the page, /api/* and /health; encode: the /v1 embedding service (model only); all: both.
Apis = Literal["search", "encode", "all"]
# local: `vibeshelf embed` encodes in this process; ray: in shards over a Ray cluster.
EmbedEngine = Literal["local", "ray"]
# How a server store keeps each vector component (the embedded hnsw store: float32 only).
VectorDtype = Literal["float32", "float16"]


class CatalogSettings(BaseModel):
    """Where the raw catalog files live, and whether generated summaries fill missing blurbs."""

    source_dir: Path = Path("../shared/data")
    # goodbooks: a language model's summary for a book without a publisher blurb, marked generated.
    generated_descriptions: bool = False


class ModelSettings(BaseModel):
    """Which sentence-embedding model encodes books and queries."""

    name: str = "all-MiniLM-L6-v2"
    variant: str = "int8"
    path: Path | None = None
    threads: Threads = max(1, min(2, os.cpu_count() or 1))
    batch_size: Annotated[int, Field(ge=1, le=1024)] = 32
    max_tokens: Annotated[int, Field(ge=8, le=512)] = 256


class EmbedSettings(BaseModel):
    """How `vibeshelf embed` runs: in this process, or spread over a Ray cluster in shards."""

    engine: EmbedEngine = "local"
    ray_address: str | None = None
    shard_size: Annotated[int, Field(ge=1, le=1_000_000)] = 1000
    ray_actors: Annotated[int | None, Field(ge=1, le=4096)] = None


class StoreSettings(BaseModel):
    """The vector store, chosen by URL scheme."""

    url: str = "hnsw://"
    hnsw_m: Annotated[int, Field(ge=4, le=128)] = 32
    hnsw_ef_construction: Annotated[int, Field(ge=16, le=2048)] = 200
    hnsw_ef_search: Annotated[int, Field(ge=10, le=4096)] = 128
    keep_builds: Annotated[int, Field(ge=1, le=20)] = 2
    vector_dtype: VectorDtype = "float32"

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        return check_url(
            url,
            "vector store",
            ("hnsw", "redis", "postgresql"),
            "hnsw://[path], redis://host:port/db or postgresql://user@host:port/db",
        )

    @model_validator(mode="after")
    def _dtype_fits_backend(self) -> StoreSettings:
        if self.vector_dtype != "float32" and backend_of(self.url) == "hnsw":
            raise ValueError(
                f"store.vector_dtype = {self.vector_dtype!r} needs a redis:// or postgresql:// "
                "store: the embedded hnsw:// store keeps float32 vectors only (hnswlib has no "
                "float16 storage)"
            )
        return self


class SearchSettings(BaseModel):
    """Query handling and ranking."""

    max_query_chars: Annotated[int, Field(ge=16, le=10_000)] = 2000
    candidates: Annotated[int, Field(ge=10, le=2000)] = 100
    default_limit: Annotated[int, Field(ge=1, le=100)] = 10
    max_limit: Annotated[int, Field(ge=1, le=500)] = 50
    popularity_weight: Fraction = 0.02
    # "books like X": a neighbour's fused reciprocal-rank score + this * its log-popularity, counted
    # up to X's own (a book read more widely than X gains nothing more).
    like_popularity_weight: Fraction = 0.2
    # ... + this * the cosine of its most specific canonical genres to X's (each weighted by rarity).
    like_genre_weight: Fraction = 0.05
    query_cache_size: CacheEntries = 4096
    mode: Literal["vector", "lexical", "hybrid"] = "hybrid"
    rrf_k: Annotated[int, Field(ge=1, le=1000)] = 60
    rerank: bool = True
    rerank_depth: Annotated[int, Field(ge=1, le=500)] = 50
    popular_min_sessions: Annotated[int, Field(ge=1, le=1_000_000)] = 3
    # A long query (over 30 words): "whole" encodes the text at once (what passes the model's
    # token limit is lost); "max" also retrieves by each sentence's vector, a book scoring its
    # best similarity to the whole or any sentence.
    long_query_fusion: Literal["whole", "max"] = "max"
    lexical_fields: LexicalFieldWeights = LexicalFieldWeights()


class ServeSettings(BaseModel):
    """The HTTP service."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    workers: Threads = 1
    blas_threads: Threads = 1
    query_log: bool = True
    query_log_max_mb: Annotated[float, Field(gt=0.0, le=1_000_000.0)] = 64.0
    query_log_keep: Annotated[int, Field(ge=1, le=100)] = 3
    apis: Apis = "search"
    # Largest request body on any route (413 beyond); /v1 has its own, encode.max_body_bytes.
    max_body_bytes: BodyBytes = 1024 * 1024
    session_secret: Annotated[SecretStr, Field(min_length=32)] | None = None

    @field_validator("workers")
    @classmethod
    def _server_installed(cls, workers: int) -> int:
        if workers > 1:
            require_extra("server", "serve.workers > 1 (gunicorn with uvicorn workers)")
        return workers
