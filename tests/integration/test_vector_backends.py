"""The VectorStore contract on real loopback servers: Redis with RediSearch and PostgreSQL + pgvector."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import numpy as np
import pytest

from tests.conftest import SHARED_DATA, free_port, run_cli, unavailable
from tests.contracts.vector_store import DIM, VectorStoreContract, manifest, sample_records
from vibeshelf.catalog.books import BookCatalog
from vibeshelf.config.core import VectorDtype
from vibeshelf.embed.encoder import load_encoder
from vibeshelf.embed.vectors import EmbeddingSet, load_embeddings
from vibeshelf.index.build import build_index
from vibeshelf.index.factory import open_store
from vibeshelf.index.filters import Filter, Range, Tag
from vibeshelf.index.hnsw import HnswParams, HnswStore
from vibeshelf.index.pgvector_sql import sql_where
from vibeshelf.index.pgvector_store import PgVectorStore
from vibeshelf.index.redis_query import redis_query
from vibeshelf.index.redis_store import RedisStore
from vibeshelf.settings import Settings
from vibeshelf.storage.errors import StoreError
from vibeshelf.storage.files import file_sha256

PARAMS = HnswParams(m=16, ef_construction=100, ef_search=64)
VECTOR_DTYPES = list(get_args(VectorDtype))


def fresh_name() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


class ServerStoreContract(VectorStoreContract):
    """The contract once per vector dtype a server store can keep."""

    @pytest.fixture(params=VECTOR_DTYPES)
    def vector_dtype(self, request: pytest.FixtureRequest) -> str:
        return str(request.param)


class TestRedisContract(ServerStoreContract):
    @pytest.fixture
    def store(self, redisearch_url: str, vector_dtype: VectorDtype) -> Iterator[RedisStore]:
        """A store under a prefix of its own; batches of 64 so 200 records leave a tail."""
        url = f"{redisearch_url}?prefix={fresh_name()}"
        store = RedisStore(url, PARAMS, batch_size=64, vector_dtype=vector_dtype)
        yield store
        store.drop()


class TestPgVectorContract(ServerStoreContract):
    @pytest.fixture
    def store(self, postgres_url: str, vector_dtype: VectorDtype) -> Iterator[PgVectorStore]:
        store = PgVectorStore(f"{postgres_url}?table={fresh_name()}", PARAMS, vector_dtype)
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


def test_redis_keeps_float16_vectors_when_asked(redisearch_url: str) -> None:
    import redis

    name = fresh_name()
    store = RedisStore(f"{redisearch_url}?prefix={name}", PARAMS, vector_dtype="float16")
    store.rebuild(sample_records(n=20), manifest())
    client = redis.Redis.from_url(redisearch_url, protocol=2)
    (vec,) = [a for a in client.ft(name).info()["attributes"] if b"vec" in a]
    assert vec[vec.index(b"data_type") + 1] == b"FLOAT16"
    doc = f"{name}:doc:{store.manifest.build_id}:b0"
    assert len(client.hget(doc, "vec")) == 2 * DIM
    assert store.manifest.params["vector_dtype"] == "float16"
    store.drop()


def test_pgvector_keeps_float16_vectors_when_asked(postgres_url: str) -> None:
    import psycopg

    table = fresh_name()
    store = PgVectorStore(f"{postgres_url}?table={table}", PARAMS, vector_dtype="float16")
    store.rebuild(sample_records(n=20), manifest())
    with psycopg.connect(postgres_url) as conn:
        (column,) = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = to_regclass(%s) AND attname = 'embedding'",
            (table,),
        ).fetchone()
        indexes = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = %s", (table,)
        ).fetchall()
    assert column == f"halfvec({DIM})"
    assert any("hnsw (embedding halfvec_cosine_ops)" in i for (i,) in indexes)
    store.drop()
    store.close()


@pytest.mark.parametrize("backend", ["redis", "postgresql"])
def test_a_new_dtype_applies_at_the_next_rebuild(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """A float16 store serves and updates a float32 build as it is, and rebuilds it as float16."""
    if backend == "redis":
        url = f"{request.getfixturevalue('redisearch_url')}?prefix={fresh_name()}"
        old, new = RedisStore(url, PARAMS), RedisStore(url, PARAMS, vector_dtype="float16")
    else:
        url = f"{request.getfixturevalue('postgres_url')}?table={fresh_name()}"
        old, new = PgVectorStore(url, PARAMS), PgVectorStore(url, PARAMS, "float16")
    records = sample_records(n=50)
    old.rebuild(records, manifest())
    extra = sample_records(n=3, seed=5, prefix="x")
    new.upsert(extra)
    assert new.knn(extra.vectors[1], 1)[0].id == "x1"
    assert new.similarities(records.vectors[4], ["b4"])[0] == pytest.approx(1.0, abs=1e-5)
    new.rebuild(records, manifest())
    assert old.manifest.params["vector_dtype"] == "float16"
    assert old.knn(records.vectors[7], 1)[0].id == "b7"
    new.drop()


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
    "a cozy mystery with a baker who solves crimes",
    "a dystopian future where teenagers fight to survive",
    "a haunted house and a family slowly going mad",
    "the history of the second world war told through soldiers' letters",
]
# A selective filter (answered from a small subset) and a broad one (most of the catalog).
FILTERS = {
    "none": None,
    "romance 1990-2015": Filter.of(Tag.any_of("shelves", "romance"), Range("year", 1990, 2015)),
    "rated 4+": Filter.of(Range("average_rating", low=4.0)),
}


@dataclass
class EmbeddedCatalog:
    """An embedded catalog, the vibe queries encoded, and the hnsw reference built from it."""

    catalog: BookCatalog
    checksum: str
    embeddings: EmbeddingSet
    fields: list[dict[str, Any]]  # each embedded book's filterable fields, in embeddings order
    queries: np.ndarray
    hnsw: HnswStore


def goodbooks_data_dir(request: pytest.FixtureRequest) -> Path:
    """The full goodbooks-10k catalog from ../shared/data, ingested and embedded.

    It lives in pytest's cache: `embed` encodes only the books whose text or model changed since
    an earlier session, so a checkout embeds the 10k books once.
    """
    if not (SHARED_DATA / "goodbooks-10k" / "books.csv").is_file():
        unavailable(f"the goodbooks-10k data is not at {SHARED_DATA} (see its README.md)")
    data_dir = request.config.cache.mkdir("goodbooks-10k")  # type: ignore[union-attr]
    run_cli("ingest", "goodbooks", "--source", str(SHARED_DATA), data_dir=data_dir)
    run_cli("embed", data_dir=data_dir)
    return data_dir


# Embedding all 10k books takes minutes of both cores, so that run is a slow test (-m slow); the
# default run checks the same agreement on the bundled sample's 3,000 books.
@pytest.fixture(
    scope="module",
    params=["sample", pytest.param("goodbooks-10k", marks=pytest.mark.slow)],
)
def embedded_catalog(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> EmbeddedCatalog:
    if request.param == "sample":
        data_dir: Path = request.getfixturevalue("sample_data_dir")
    else:
        data_dir = goodbooks_data_dir(request)
    settings = Settings(data_dir=data_dir)
    catalog = BookCatalog.load(settings.books_path)
    checksum = file_sha256(settings.books_path)
    embeddings = load_embeddings(settings.embeddings_dir, settings.model.name)
    queries = load_encoder(settings.model, settings.models_dir).encode(QUERIES)
    hnsw = HnswStore(tmp_path_factory.mktemp("hnsw"))  # the settings' default HNSW parameters
    build_index(hnsw, catalog, checksum, embeddings)
    fields = [catalog.get(i).index_fields() for i in embeddings.ids]  # type: ignore[union-attr]
    return EmbeddedCatalog(catalog, checksum, embeddings, fields, queries, hnsw)


@pytest.mark.parametrize("vector_dtype", VECTOR_DTYPES)
def test_backends_agree_on_real_embeddings(
    embedded_catalog: EmbeddedCatalog,
    redisearch_url: str,
    postgres_url: str,
    vector_dtype: VectorDtype,
) -> None:
    """A whole catalog's real embeddings: every server's top 10 shares >= 9 with hnsw's."""
    data = embedded_catalog
    servers = [
        RedisStore(f"{redisearch_url}?prefix={fresh_name()}", vector_dtype=vector_dtype),
        PgVectorStore(f"{postgres_url}?table={fresh_name()}", vector_dtype=vector_dtype),
    ]
    for store in servers:
        build_index(store, data.catalog, data.checksum, data.embeddings)
        assert store.count() == data.hnsw.count() == len(data.embeddings.ids) >= 2900
    vectors, ids = data.embeddings.vectors, data.embeddings.ids
    for text, query in zip(QUERIES, data.queries, strict=True):
        for name, flt in FILTERS.items():
            keep = np.array([flt is None or flt.matches(f) for f in data.fields])
            exact = [ids[i] for i in np.argsort(-np.where(keep, vectors @ query, -np.inf))[:10]]
            expected = [h.id for h in data.hnsw.knn(query, 10, flt)]
            assert len(expected) == 10 and len(set(expected) & set(exact)) >= 9, (text, name)
            for store in servers:
                got = [h.id for h in store.knn(query, 10, flt)]
                assert len(set(got) & set(expected)) >= 9, (type(store).__name__, text, name)
    for store in servers:
        store.drop()
    servers[1].close()
