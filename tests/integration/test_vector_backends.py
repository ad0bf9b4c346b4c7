"""The VectorStore contract on real loopback servers: Redis with RediSearch and PostgreSQL + pgvector."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import free_port
from tests.contracts.vector_store import VectorStoreContract, manifest, sample_records
from vibeshelf.catalog.books import BookCatalog
from vibeshelf.catalog.table import catalog_checksum
from vibeshelf.embed.encoder import load_encoder
from vibeshelf.embed.vectors import load_embeddings
from vibeshelf.index.base import StoreError
from vibeshelf.index.build import build_index
from vibeshelf.index.factory import open_store
from vibeshelf.index.filters import Filter, Range, Tag
from vibeshelf.index.hnsw import HnswParams, HnswStore
from vibeshelf.index.pgvector_store import PgVectorStore, sql_where
from vibeshelf.index.redis_store import RedisStore, redis_query
from vibeshelf.settings import Settings

PARAMS = HnswParams(m=16, ef_construction=100, ef_search=64)


def fresh_name() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


class TestRedisContract(VectorStoreContract):
    @pytest.fixture
    def store(self, redisearch_url: str) -> Iterator[RedisStore]:
        """A store under a prefix of its own; batches of 64 so 200 records leave a tail."""
        store = RedisStore(f"{redisearch_url}?prefix={fresh_name()}", PARAMS, batch_size=64)
        yield store
        store.drop()


class TestPgVectorContract(VectorStoreContract):
    @pytest.fixture
    def store(self, postgres_url: str) -> Iterator[PgVectorStore]:
        store = PgVectorStore(f"{postgres_url}?table={fresh_name()}", PARAMS)
        yield store
        store.drop()
        store.close()


def test_redis_rebuild_drops_the_old_build(redisearch_url: str) -> None:
    import redis

    name = fresh_name()
    store = RedisStore(f"{redisearch_url}?prefix={name}", PARAMS, batch_size=64)
    store.rebuild(sample_records(n=100), manifest())
    first = store.manifest.build_id
    store.rebuild(sample_records(n=70, seed=3), manifest())
    client = redis.Redis.from_url(redisearch_url)
    keys = {k.decode() for k in client.scan_iter(match=f"{name}:*", count=1000)}
    assert not any(first in k for k in keys)
    assert len([k for k in keys if ":doc:" in k]) == 70
    indexes = [
        i.decode() for i in client.execute_command("FT._LIST") if i.decode().startswith(name)
    ]
    assert indexes == [f"{name}:idx:{store.manifest.build_id}"]
    store.drop()
    assert not list(client.scan_iter(match=f"{name}:*"))


def test_pgvector_rebuild_leaves_one_table(postgres_url: str) -> None:
    import psycopg

    table = fresh_name()
    store = PgVectorStore(f"{postgres_url}?table={table}", PARAMS)
    store.rebuild(sample_records(n=100), manifest())
    store.rebuild(sample_records(n=70, seed=3), manifest())
    with psycopg.connect(postgres_url) as conn:
        names = conn.execute(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE %s", (f"{table}%",)
        ).fetchall()
        assert names == [(table,)]
        indexes = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s", (table,)
        ).fetchall()
    assert any("hnsw (embedding vector_cosine_ops)" in i for (i,) in indexes)
    assert store.count() == 70
    store.drop()
    store.close()


def test_the_factory_picks_the_backend_by_scheme(
    redisearch_url: str, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIBESHELF_DATA_DIR", str(tmp_path))
    expected = {
        "hnsw://": HnswStore,
        f"{redisearch_url}?prefix={fresh_name()}": RedisStore,
        f"{postgres_url}?table={fresh_name()}": PgVectorStore,
        f"{postgres_url.replace('postgresql://', 'postgres://')}?table={fresh_name()}": PgVectorStore,
    }
    for url, kind in expected.items():
        monkeypatch.setenv("VIBESHELF_STORE__URL", url)
        store = open_store(Settings())
        assert type(store) is kind
        store.rebuild(sample_records(n=20), manifest())
        assert store.health() | {"ok": True, "count": 20} == store.health()
        store.drop()


def test_unreachable_servers_are_store_errors_without_the_password() -> None:
    port = free_port()
    with pytest.raises(StoreError, match=f"127.0.0.1:{port}") as error:
        PgVectorStore(f"postgresql://me:hunter2@127.0.0.1:{port}/db")
    assert "hunter2" not in str(error.value)
    store = RedisStore(f"redis://:hunter2@127.0.0.1:{port}/0")
    with pytest.raises(StoreError, match=f"127.0.0.1:{port}") as error:
        store.knn(sample_records(n=1).vectors[0], 3)
    assert "hunter2" not in str(error.value)
    health = store.health()
    assert (health["ok"], health["count"], health["build_id"]) == (False, 0, None)
    assert f"127.0.0.1:{port}" in health["error"] and "hunter2" not in str(health)


def test_filters_translate_to_each_query_language() -> None:
    flt = Filter.of(
        Tag.any_of("shelves", "sci-fi", "Young Adult"),
        Range("year", 1990, 2000),
        Range("average_rating", low=4),
    )
    assert redis_query(flt) == (
        r"@shelves:{sci\-fi|young\ adult} @year:[1990.0 2000.0] @average_rating:[4.0 +inf]"
    )
    where, args = sql_where(flt)
    assert args == [["sci-fi", "young adult"], 1990.0, 2000.0, 4.0]
    assert where.as_string() == (
        'WHERE "shelves" && %s AND "year" >= %s AND "year" <= %s AND "average_rating" >= %s::real'
    )


QUERIES = [
    "boy wizard goes to a school of magic",
    "a detective solves a murder in a small english village",
    "epic quest with dragons and an ancient prophecy",
    "slow burn romance between rivals in regency london",
    "a lonely robot on a spaceship far from earth",
    "memoir of growing up poor in the american south",
]


def test_backends_agree_on_the_sample(
    sample_data_dir: Path, redisearch_url: str, postgres_url: str
) -> None:
    """Real embeddings of the 3,000-book sample: each backend's top 10 matches HNSW's and exact."""
    settings = Settings(data_dir=sample_data_dir)
    catalog = BookCatalog.load(settings.books_path)
    embeddings = load_embeddings(settings.embeddings_dir, settings.model.name)
    checksum = catalog_checksum(settings.books_path)
    queries = load_encoder(settings.model, settings.models_dir).encode(QUERIES)
    hnsw = HnswStore(settings.index_dir)  # built by `vibeshelf demo --no-serve` from the same data
    redis_store = RedisStore(f"{redisearch_url}?prefix={fresh_name()}")
    pg_store = PgVectorStore(f"{postgres_url}?table={fresh_name()}")
    for store in (redis_store, pg_store):
        build_index(store, catalog, checksum, embeddings)
        assert store.count() == hnsw.count() >= 2900
    romance = Filter.of(Tag.any_of("shelves", "romance"), Range("year", 1990, 2015))
    for query in queries:
        exact = [embeddings.ids[i] for i in np.argsort(-(embeddings.vectors @ query))[:10]]
        for flt in (None, romance):
            expected = [h.id for h in hnsw.knn(query, 10, flt)]
            assert len(expected) == 10
            if flt is None:
                assert len(set(expected) & set(exact)) >= 9
            for store in (redis_store, pg_store):
                got = [h.id for h in store.knn(query, 10, flt)]
                assert len(set(got) & set(expected)) >= 9, (store, flt)
    redis_store.drop()
    pg_store.drop()
    pg_store.close()
