"""Model directories: round trip, CURRENT pointer, previous version, pruning, atomic writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp

from vibeshelf.catalog.books import Book, BookCatalog
from vibeshelf.recommend import artifacts
from vibeshelf.recommend.artifacts import (
    ModelNotFoundError,
    RecsModel,
    current_version,
    load_model,
    previous_version,
    set_current,
    versions,
    write_model,
)
from vibeshelf.recommend.items import ITEMS_FILE, ItemTable, fill_catalog_genres


def tiny_model(version: str, seed: int = 0) -> RecsModel:
    rng = np.random.default_rng(seed)
    items = ItemTable(
        ["b1", "b2", "b3"],
        ["One", "Two", "Three"],
        [["A"], [], ["C"]],
        [["x-shelf"], ["y-shelf"], []],
        [["fantasy"], [], ["mystery", "fiction"]],
    )
    seen = sp.csr_matrix(np.array([[1, 0, 1], [0, 1, 0]], np.float32))
    return RecsModel(
        users=["u1", "u2"],
        items=items,
        user_factors=rng.standard_normal((2, 4)).astype(np.float32),
        item_factors=rng.standard_normal((3, 4)).astype(np.float32),
        seen=seen,
        counts=np.array([1, 1, 1]),
        metadata={
            "version": version,
            "params": {"regularization": 1.0, "alpha": 10.0},
            "source": "s",
        },
    )


def test_round_trip_and_current(tmp_path: Path) -> None:
    model = tiny_model("20240101T000000000000-aaaa")
    model.top_items = np.array([[1, -1], [0, 2]], np.int32)
    write_model(tmp_path, model, keep=3)
    assert current_version(tmp_path) == model.version
    loaded = load_model(tmp_path)
    assert loaded.users == model.users and loaded.items.ids == model.items.ids
    assert loaded.items.genres == model.items.genres and loaded.items.authors == model.items.authors
    assert loaded.items.shelves == model.items.shelves
    assert np.array_equal(loaded.item_factors, model.item_factors)
    assert np.array_equal(loaded.user_factors, model.user_factors)
    assert loaded.seen.toarray().tolist() == model.seen.toarray().tolist()
    assert loaded.top_items is not None and loaded.top_items.tolist() == [[1, -1], [0, 2]]
    assert loaded.ann is not None and loaded.ann.count() == 3
    assert loaded.ann.knn(loaded.unit_items[1], 1)[0].id == "b2"


def test_a_model_written_before_canonical_genres_loads_its_shelves(tmp_path: Path) -> None:
    """Older items.parquet files hold the shelves in `genres`: they load as shelves, no genres."""
    model = tiny_model("20240101T000000000000-aaaa")
    write_model(tmp_path, model, keep=3)
    path = tmp_path / model.version / ITEMS_FILE
    table = pq.read_table(path).drop_columns(["genres"])
    old = table.rename_columns(
        ["genres" if name == "shelves" else name for name in table.column_names]
    )
    pq.write_table(old, path)
    loaded = load_model(tmp_path)
    assert loaded.items.shelves == [["x-shelf"], ["y-shelf"], []]
    assert loaded.items.genres == [[], [], []]
    assert loaded.counts.tolist() == [1, 1, 1]
    catalog = BookCatalog([catalog_book("b1", ["mystery"]), catalog_book("b3", ["horror", "gothic"])])
    assert fill_catalog_genres(loaded.items, catalog) == 2
    assert loaded.items.genres == [["mystery"], [], ["horror", "gothic"]]


def catalog_book(book_id: str, genres: list[str]) -> Book:
    return Book(
        book_id, book_id, [], None, None, None, 0, [], None, None, None, None, genres=genres
    )


def test_previous_version_and_pruning(tmp_path: Path) -> None:
    names = [f"2024010{d}T000000000000-aaaa" for d in range(1, 5)]
    for name in names:
        write_model(tmp_path, tiny_model(name), keep=2)
    assert versions(tmp_path) == names[-2:]
    assert previous_version(tmp_path, names[-1]) == names[-2]
    set_current(tmp_path, names[-2])
    assert load_model(tmp_path).version == names[-2]


def test_failed_write_leaves_the_served_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = tiny_model("20240101T000000000000-aaaa")
    write_model(tmp_path, good, keep=3)

    def broken_ann(path: Path, model: RecsModel) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(artifacts, "_build_ann", broken_ann)
    with pytest.raises(OSError, match="disk full"):
        write_model(tmp_path, tiny_model("20240102T000000000000-bbbb"), keep=3)
    assert current_version(tmp_path) == good.version
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == [good.version]


def test_a_write_clears_temp_dirs_left_by_a_killed_one(tmp_path: Path) -> None:
    write_model(tmp_path, tiny_model("20240101T000000000000-aaaa"), keep=3)
    (tmp_path / ".tmp-20240102T000000000000-bbbb").mkdir()  # a training killed mid-write
    write_model(tmp_path, tiny_model("20240103T000000000000-cccc"), keep=3)
    assert not list(tmp_path.glob(".tmp-*"))
    assert versions(tmp_path) == ["20240101T000000000000-aaaa", "20240103T000000000000-cccc"]


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="vibeshelf train recs"):
        load_model(tmp_path)
    with pytest.raises(ModelNotFoundError):
        set_current(tmp_path, "nope")
