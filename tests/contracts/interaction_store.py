"""The behaviour every InteractionStore backend must show; subclass and provide `store`."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest

from vibeshelf.recommend.storage.base import (
    AUTO,
    PREFERRED,
    SCHEMA,
    InteractionStore,
    SourceInfo,
)
from vibeshelf.storage.errors import StorageError


def rows(*triples: tuple[str, str, float | None]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "user_id": u,
                "item_id": i,
                "rating": None if s is None else s * 10,
                "strength": s,
                "event": "rating" if s else "implicit",
                "ts": datetime(2024, 5, 1, 12, 30),
            }
            for u, i, s in triples
        ],
        schema=SCHEMA,
    )


class InteractionStoreContract:
    """Every interactions store passes these; a subclass provides the `store` fixture (an empty store)."""

    def test_replace_then_read(self, store: InteractionStore) -> None:
        info = store.replace_source(
            SourceInfo("bx", "catalog"), rows(("u1", "b1", 0.5), ("u1", "b2", None))
        )
        assert (info.name, info.item_space, info.rows) == ("bx", "catalog", 2)
        table = store.read("bx")
        assert table.schema == SCHEMA
        got = sorted(table.to_pylist(), key=lambda r: r["item_id"])
        assert got == rows(("u1", "b1", 0.5), ("u1", "b2", None)).to_pylist()

    def test_replace_swaps_ingested_rows_but_keeps_api_events(
        self, store: InteractionStore
    ) -> None:
        store.replace_source(SourceInfo("bx", "catalog"), rows(("u1", "b1", 0.5)))
        store.append("bx", rows(("u9", "b7", 1.0)))
        store.replace_source(
            SourceInfo("bx", "catalog"), rows(("u2", "b3", 0.2), ("u3", "b3", 0.4))
        )
        assert sorted(r["user_id"] for r in store.read("bx").to_pylist()) == ["u2", "u3", "u9"]
        assert store.source("bx").rows == 3

    def test_history_is_per_source_and_user(self, store: InteractionStore) -> None:
        store.replace_source(
            SourceInfo("a", "own"), rows(("u1", "x", 1.0), ("u1", "y", None), ("u2", "z", 1.0))
        )
        store.replace_source(SourceInfo("b", "own"), rows(("u1", "w", 1.0)))
        store.append("a", rows(("u1", "x", 0.2)))
        assert sorted(store.history("a", "u1")) == ["x", "y"]
        assert store.history("a", "nobody") == []
        assert [s.name for s in store.sources()] == ["a", "b"]

    def test_append_to_an_unknown_source_is_an_error(self, store: InteractionStore) -> None:
        with pytest.raises(StorageError):
            store.append("missing", rows(("u", "i", 1.0)))
        with pytest.raises(StorageError, match="vibeshelf ingest interactions"):
            store.source("missing")

    def test_auto_prefers_goodbooks_then_book_crossing_then_the_only_source(
        self, store: InteractionStore
    ) -> None:
        with pytest.raises(StorageError, match="no interactions ingested"):
            store.source(AUTO)
        store.replace_source(SourceInfo("mine", "own"), rows(("u1", "x", 1.0)))
        assert store.source(AUTO).name == "mine"
        store.replace_source(SourceInfo("theirs", "own"), rows(("u1", "y", 1.0)))
        with pytest.raises(StorageError, match="mine, theirs"):
            store.source(AUTO)
        for name in reversed(PREFERRED):  # book-crossing-goodbooks first, then goodbooks
            store.replace_source(SourceInfo(name, "catalog"), rows(("u1", "b1", 1.0)))
            assert store.source(AUTO).name == name

    def test_bulk_replace(self, store: InteractionStore) -> None:
        many = rows(*[(f"u{i % 97}", f"b{i}", (i % 10) / 10 or None) for i in range(20_000)])
        assert store.replace_source(SourceInfo("big", "own"), many).rows == 20_000
        assert store.read("big").num_rows == 20_000

    def test_a_failed_replace_keeps_the_old_rows(self, store: InteractionStore) -> None:
        store.replace_source(SourceInfo("bx", "catalog"), rows(("u1", "b1", 0.5)))
        good = rows(("u2", "b2", 0.5)).to_pylist()[0]
        bad = pa.Table.from_pylist(
            [good, {**good, "item_id": None}], schema=SCHEMA
        )  # NOT NULL breaks
        with pytest.raises(StorageError):
            store.replace_source(SourceInfo("bx", "catalog"), bad)
        assert store.history("bx", "u1") == ["b1"]
