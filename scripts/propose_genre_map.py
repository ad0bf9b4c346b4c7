"""Propose the shelf -> canonical genre mapping from a shelves CSV; review it before committing.

Build tool, not run when serving: `python scripts/propose_genre_map.py
../shared/data/goodbooks-shelves/book_genres.csv ../shared/data/book-descriptions/genres.csv
> /tmp/proposal.tsv`, then compare with
src/vibeshelf/catalog/genre_map.tsv and edit that file by hand. Steps:
1. organisational shelves (to-read, owned, favourites, 2015-reads ...) map to "-";
2. the rest are grouped by name: case, separators, plurals and short forms (sci-fi/scifi/sf,
   ya/young-adult, humour/humor) share one key (vibeshelf.catalog.genres.shelf_key);
3. a key made of smaller groups' keys ("fantasy scifi") maps to each of theirs;
4. a small group whose books nearly all (>= CO_OCCURRENCE) carry one larger group's shelves, and
   whose key contains that group's key, joins it (co-occurrence: "mystery-detective" -> mystery).
The proposal names each group by its most common shelf, as words.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

from vibeshelf.catalog.genres import shelf_key
from vibeshelf.catalog.shelves import is_noise, shelf_phrase

CO_OCCURRENCE = 0.9
MIN_BOOKS = 30


def read_shelves(path: Path) -> list[list[str]]:
    """Each book's shelves, from a CSV with a comma-joined `genres` column, or with one `genre` a
    row after the book's key in the first column."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if rows and "genres" in rows[0]:
        return [row["genres"].split(",") for row in rows if row["genres"]]
    books: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        key = next(iter(row.values()))
        if row.get("genre"):
            books[key].append(row["genre"])
    return list(books.values())


def propose(books: list[list[str]]) -> dict[str, tuple[list[str], str]]:
    """Shelf -> (proposed genres, or [] for not a genre; why)."""
    counts = Counter(s for shelves in books for s in shelves)
    groups: dict[str, list[str]] = defaultdict(list)
    proposal: dict[str, tuple[list[str], str]] = {}
    for shelf in counts:
        if is_noise(shelf):
            proposal[shelf] = ([], "organisational")
        else:
            groups[shelf_key(shelf)].append(shelf)
    name = {key: shelf_phrase(max(members, key=counts.__getitem__)) for key, members in groups.items()}
    books_of = {key: {i for i, b in enumerate(books) if set(b) & set(members)}
                for key, members in groups.items()}
    for key, members in groups.items():
        words = set(key.split())
        inside = [k for k in groups if set(k.split()) < words and len(books_of[k]) >= MIN_BOOKS]
        parts = [k for k in inside if not any(set(o.split()) < set(k.split()) for o in inside)]
        covering = [k for k in parts if len(books_of[key] & books_of[k]) >= CO_OCCURRENCE * len(books_of[key])]
        if len(parts) >= 2 and set().union(*(k.split() for k in parts)) == words:
            genres, why = [name[k] for k in sorted(parts)], "compound of " + ", ".join(sorted(parts))
        elif covering and len(books_of[key]) < MIN_BOOKS:
            best = max(covering, key=lambda k: len(books_of[k]))
            genres, why = [name[best]], f"co-occurs with {best}"
        else:
            genres, why = [name[key]], f"name group {key!r}"
        for shelf in members:
            proposal[shelf] = (genres, why)
    return proposal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shelves_csv", type=Path, nargs="+", help="CSV with `genres` or `genre`")
    args = parser.parse_args()
    proposal = propose([shelves for path in args.shelves_csv for shelves in read_shelves(path)])
    out = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    for shelf, (genres, why) in sorted(proposal.items()):
        out.writerow([shelf, "; ".join(genres) or "-", why])


if __name__ == "__main__":
    main()
