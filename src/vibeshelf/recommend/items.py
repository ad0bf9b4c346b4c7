"""The items a model recommends, with what a response shows: title, authors, canonical genres, shelves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.recommend.bxbooks import BX_BOOKS_FILE

ITEMS_FILE = "items.parquet"


@dataclass
class ItemTable:
    """Item ids in model order, with display fields row-aligned.

    `genres` are the catalog's canonical genres (most specific first); `shelves` are readers' shelf
    names, which place cold books and explain content neighbours.
    """

    ids: list[str]
    titles: list[str]
    authors: list[list[str]]
    shelves: list[list[str]]
    genres: list[list[str]]

    def __len__(self) -> int:
        return len(self.ids)

    def to_arrow(self, **extra: list[object]) -> pa.Table:
        columns = {
            "item_id": self.ids,
            "title": self.titles,
            "authors": self.authors,
            "shelves": self.shelves,
            "genres": self.genres,
        }
        return pa.table({**columns, **extra})

    @classmethod
    def read(cls, path: Path) -> tuple[ItemTable, pa.Table]:
        """The items of a model directory, and the whole table (with its extra columns).

        Directories written before items carried canonical genres hold the shelves in `genres`:
        they load with those as shelves and no genres.
        """
        table = pq.read_table(path)
        data = table.to_pydict()
        if "shelves" not in data:
            data["shelves"], data["genres"] = data["genres"], [[] for _ in data["item_id"]]
        items = cls(
            data["item_id"], data["title"], data["authors"], data["shelves"], data["genres"]
        )
        return items, table


def fill_catalog_genres(items: ItemTable, catalog: BookCatalog) -> int:
    """Give a catalog model written before items carried canonical genres its books' genres from
    the catalog (cards and the genre-popular source read them); returns the books filled."""
    genres = {b.book_id: b.genres for b in catalog}
    items.genres = [genres.get(i, []) for i in items.ids]
    return sum(bool(g) for g in items.genres)


def item_universe(
    item_space: str, interacted: list[str], books_path: Path, catalog_dir: Path
) -> ItemTable:
    """Every item a model over `item_space` can recommend.

    catalog: every catalog book (books nobody interacted with are placed by their shelves);
    book-crossing: the interacted ISBNs, titled from BX-Books where it has them;
    own: the interacted ids, with no metadata.
    """
    if item_space == "catalog":
        books = list(BookCatalog.load(books_path))
        return ItemTable(
            [b.book_id for b in books],
            [b.title for b in books],
            [b.authors for b in books],
            [b.shelves for b in books],
            [b.genres for b in books],
        )
    ids = sorted(set(interacted))
    if item_space == "book-crossing":
        path = catalog_dir / BX_BOOKS_FILE
        meta = (
            {row["item_id"]: row for row in pq.read_table(path).to_pylist()}
            if path.is_file()
            else {}
        )
        rows = [meta.get(i, {}) for i in ids]
        return ItemTable(
            ids,
            [r.get("title") or f"ISBN {i}" for r, i in zip(rows, ids, strict=True)],
            [r.get("authors") or [] for r in rows],
            [[] for _ in ids],
            [[] for _ in ids],
        )
    return ItemTable(ids, ids, [[] for _ in ids], [[] for _ in ids], [[] for _ in ids])
