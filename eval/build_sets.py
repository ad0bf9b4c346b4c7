"""Turn the hand-written TSVs into evaluation JSONL: relevant ids come from the full catalog."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.catalog.shelves import shelf_phrase

HERE = Path(__file__).parent


def rows(path: Path) -> list[tuple[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t", 1)) for line in lines if line and not line.startswith("#")]  # type: ignore[misc]


def same_words(shelf: str) -> frozenset[str]:
    return frozenset(shelf_phrase(shelf).split())


def shelf_holdout(catalog: BookCatalog, shelf: str) -> tuple[list[str], list[str]]:
    """The shelf with its word-order twins in the catalog (cozy-mystery, mystery-cozy), held out
    together, and the ids of the books on any of them."""
    twins = sorted(s for s in catalog.shelf_counts if same_words(s) == same_words(shelf))
    return twins, [b.book_id for b in catalog if set(b.shelves) & set(twins)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("books", type=Path, help="books.parquet of the full goodbooks catalog")
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where the JSONL go (default: eval/)")
    args = parser.parse_args()
    write_sets(BookCatalog.load(args.books), args.out_dir)


def write_sets(catalog: BookCatalog, out_dir: Path) -> None:
    """shelf_vibes.jsonl and tip_of_tongue.jsonl in out_dir, from the TSVs beside this script."""
    with open(out_dir / "shelf_vibes.jsonl", "w", encoding="utf-8") as out:
        for shelf, query in rows(HERE / "shelf_vibes.tsv"):
            holdout, relevant = shelf_holdout(catalog, shelf)
            out.write(json.dumps({"query": query, "relevant": relevant, "shelf": shelf,
                                  "holdout": holdout}) + "\n")
    with open(out_dir / "tip_of_tongue.jsonl", "w", encoding="utf-8") as out:
        for book_id, query in rows(HERE / "tip_of_tongue.tsv"):
            book = catalog.get(book_id)
            if book is None:
                raise SystemExit(f"unknown book id {book_id}")
            out.write(json.dumps({"query": query, "relevant": [book_id], "title": book.title}) + "\n")


if __name__ == "__main__":
    main()
