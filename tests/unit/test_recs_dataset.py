"""The interactions matrix: id maps, duplicates, checksum and the per-user leave-out split."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest

from vibeshelf.recommend.dataset import Interactions
from vibeshelf.recommend.storage.base import SCHEMA


def table(rows: list[tuple[str, str, float | None]]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "user_id": u,
                "item_id": i,
                "rating": None,
                "strength": s,
                "event": "x",
                "ts": datetime(2020, 1, 1),
            }
            for u, i, s in rows
        ],
        schema=SCHEMA,
    )


def many(n_users: int = 50, per_user: int = 8, n_items: int = 40, seed: int = 0) -> Interactions:
    rng = np.random.default_rng(seed)
    rows = [
        (f"u{u:02d}", f"i{i:02d}", 1.0)
        for u in range(n_users)
        for i in rng.choice(n_items, size=1 + u % per_user, replace=False)
    ]
    return Interactions.from_table(table(rows), [f"i{i:02d}" for i in range(n_items)])


def test_from_table_maps_ids_and_keeps_implicit_as_nan() -> None:
    data = Interactions.from_table(
        table([("b", "x", 0.5), ("a", "y", None), ("a", "zzz", 1.0), ("b", "x", 0.9)]), ["x", "y"]
    )
    assert data.users == ["a", "b"] and data.items == ["x", "y"]
    dense = data.strengths.toarray()
    assert np.isnan(dense[0, 1]) and dense[1, 0] == 0.5  # first duplicate wins; zzz is not an item
    assert data.nnz == 2
    assert data.item_counts().tolist() == [1, 1]


def test_checksum_changes_with_the_data() -> None:
    a = Interactions.from_table(table([("a", "x", 0.5)]), ["x"])
    b = Interactions.from_table(table([("a", "x", 0.5)]), ["x"])
    c = Interactions.from_table(table([("a", "x", 0.6)]), ["x"])
    assert a.checksum() == b.checksum() != c.checksum()


def test_split_is_a_partition_per_user() -> None:
    data = many()
    train, test = data.split(0.25, min_user=3, seed=1)
    both = train.strengths.toarray() + test.strengths.toarray()
    assert np.array_equal(both, data.strengths.toarray())
    assert train.strengths.multiply(test.strengths).nnz == 0
    counts = np.diff(data.strengths.indptr)
    held = np.diff(test.strengths.indptr)
    for n, h in zip(counts, held, strict=True):
        assert h == (max(1, round(0.25 * n)) if n >= 3 else 0)


def test_split_depends_only_on_the_seed() -> None:
    data = many()
    first = data.split(0.2, 3, seed=5)[1].strengths
    assert (first != data.split(0.2, 3, seed=5)[1].strengths).nnz == 0
    assert (first != data.split(0.2, 3, seed=6)[1].strengths).nnz > 0


@pytest.mark.parametrize("fraction", [0.01, 0.5, 0.99])
def test_every_active_user_keeps_something_to_learn_from_unless_fraction_is_high(
    fraction: float,
) -> None:
    train, test = many().split(fraction, min_user=3, seed=0)
    assert test.nnz > 0
    if fraction <= 0.5:
        assert (np.diff(train.strengths.indptr) > 0).all()
