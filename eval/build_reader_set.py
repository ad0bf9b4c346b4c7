"""Build the reader-queries sets (evaluation and training) with graded relevance from rules and hand judgments."""

from __future__ import annotations

import argparse
import json
import math
import re
from collections import Counter, defaultdict
from pathlib import Path

import duckdb

from vibeshelf.catalog.books import Book, BookCatalog

HERE = Path(__file__).parent
RATINGS = Path("goodbooks-10k/ratings.csv.gz")
# "books like X": books co-rated with X, ranked by log(1 + co-raters) times the IDF-weighted
# cosine of their shelves and X's (raw co-rating counts favour whatever was popular at the time);
# the best 10 are grade 2, the next 20 grade 1.
CO_READ_BEST = 10
CO_READ_MORE = 20
MIN_CO_READERS = 2  # a co-read needs at least this many readers of both books
# "(The Hunger Games, #2)", "(Discworld, #3; Witches, #1)": a title's series and numbers.
SERIES = re.compile(r"\(([^()]*#[^()]*)\)\s*$")
SERIES_PART = re.compile(r"^\s*(.*?),?\s*#\s*([\d.]+)\s*(-\s*[\d.]+)?\s*$")
NOT_THE_BOOK = re.compile(r"(?i)\b(box(ed)? set|collection|omnibus|trilogy|complete|companion|guide|"
                          r"graphic novel|illustrated|world of|official)\b")


def rows(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


def series_of(title: str) -> list[tuple[str, str, bool]]:
    """(series name in lower case, number, whether it is a range like #1-3) per series named."""
    found = SERIES.search(title)
    if not found:
        return []
    parts = (SERIES_PART.match(p) for p in found.group(1).split(";"))
    return [(m.group(1).strip().lower(), m.group(2), bool(m.group(3))) for m in parts if m]


def base_title(title: str) -> str:
    return SERIES.sub("", title).split(":")[0].strip().lower()


def shelf_rule(rule: str, book: Book) -> int:
    """The highest grade of "2=a|b&c; 1=d" whose every &-group shares a shelf with the book."""
    shelves = set(book.shelves)
    grades = []
    for clause in filter(None, (c.strip() for c in rule.split(";"))):
        grade, _, expression = clause.partition("=")
        groups = [set(g.split("|")) for g in expression.split("&")]
        if all(shelves & group for group in groups):
            grades.append(int(grade))
    return max(grades, default=0)


def series_grade(name: str, book: Book) -> int:
    """2 for a numbered book of the series, 1 for an in-between one (#0.5), 0 for sets and others."""
    for series, number, is_range in series_of(book.title):
        if series == name.lower() and not is_range and not NOT_THE_BOOK.search(book.title):
            return 2 if float(number).is_integer() else 1
    return 0


def is_edition_of(x: Book, book: Book) -> bool:
    """Another edition, a box set, a guide or a companion of X (never relevant to "books like X")."""
    if book.book_id == x.book_id or (x.work_id and book.work_id == x.work_id):
        return True
    same_author = bool(set(x.authors) & set(book.authors))
    if base_title(x.title) in SERIES.sub("", book.title).lower() and (
            same_author or NOT_THE_BOOK.search(book.title)):
        return True
    x_series = {s for s, _, _ in series_of(x.title)}
    return bool({s for s, _, is_range in series_of(book.title) if is_range} & x_series)


def co_reads(ratings: Path, targets: list[str]) -> dict[str, list[tuple[str, int]]]:
    """Per target book, other books by how many users rated both (most first, ties by id)."""
    with duckdb.connect() as con:
        con.execute(f"""CREATE TABLE r AS SELECT DISTINCT CAST(book_id AS VARCHAR) AS book_id, user_id
                        FROM read_csv('{ratings}', header = true)""")
        found = con.execute("""
            SELECT x.book_id, y.book_id, count(*) AS n FROM r x JOIN r y USING (user_id)
            WHERE x.book_id IN (SELECT unnest($targets)) AND y.book_id <> x.book_id
            GROUP BY 1, 2 HAVING count(*) >= $least ORDER BY 1, n DESC, TRY_CAST(y.book_id AS INT)
        """, {"targets": targets, "least": MIN_CO_READERS}).fetchall()
    out: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for x, y, n in found:
        out[x].append((y, n))
    return out


def shelf_cosine(a: Book, b: Book, idf: dict[str, float]) -> float:
    """Cosine of two books' shelf sets, each shelf weighted by its IDF."""
    shared = sum(idf[s] ** 2 for s in set(a.shelves) & set(b.shelves))
    norm = math.sqrt(sum(idf[s] ** 2 for s in set(a.shelves)) * sum(idf[s] ** 2 for s in set(b.shelves)))
    return shared / norm if norm else 0.0


def like_grades(
    x: Book, catalog: BookCatalog, co_rated: list[tuple[str, int]], idf: dict[str, float]
) -> dict[str, int]:
    """Co-reads of X without its editions, box sets and companions: the best 10 grade 2, the next
    20 grade 1; the other books of X's series are grade 1 (a reader asked for other books)."""
    scored = [(math.log1p(n) * shelf_cosine(x, book, idf), book.book_id) for b, n in co_rated
              if (book := catalog.get(b)) and not is_edition_of(x, book)]
    kept = [b for _, b in sorted(scored, key=lambda s: (-s[0], int(s[1])))]
    grades = {b: 2 for b in kept[:CO_READ_BEST]}
    grades |= {b: 1 for b in kept[CO_READ_BEST:CO_READ_BEST + CO_READ_MORE]}
    series = {name for name, _, _ in series_of(x.title)}
    for book in catalog:
        if not is_edition_of(x, book) and any(series_grade(name, book) for name in series):
            grades[book.book_id] = 1
    return grades


def judged(catalog: BookCatalog) -> dict[str, dict[str, int]]:
    """Hand judgments by query, each title checked against the catalog."""
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for query, grade, book_id, title in rows(HERE / "reader_judged.tsv"):
        book = catalog.get(book_id)
        if book is None or not book.title.lower().startswith(title.lower()):
            raise SystemExit(f"{query!r}: book {book_id} is not {title!r} ({book and book.title!r})")
        out[query][book_id] = int(grade)
    return out


def grade_all(catalog: BookCatalog, ratings: Path) -> list[dict[str, object]]:
    """One record per line of reader_queries.tsv."""
    specs = rows(HERE / "reader_queries.tsv")
    reads = co_reads(ratings, [t for _, kind, _, t in specs if kind == "like"])
    hand = judged(catalog)
    df = Counter(s for b in catalog for s in set(b.shelves))
    idf = {s: math.log(len(catalog) / n) for s, n in df.items()}
    unused = set(hand) - {q for _, _, q, _ in specs}
    if unused:
        raise SystemExit(f"judged queries not in reader_queries.tsv: {sorted(unused)}")
    records = []
    for split, kind, query, target in specs:
        if kind == "like":
            x = catalog.get(target)
            if x is None:
                raise SystemExit(f"{query!r}: unknown book {target}")
            grades = like_grades(x, catalog, reads.get(target, []), idf)
        elif kind == "author":
            grades = {b.book_id: 2 for b in catalog if target in b.authors}
        elif kind == "series":
            grades = {b.book_id: g for b in catalog if (g := series_grade(target, b))}
        elif kind in ("vibe", "mood"):
            grades = {} if target == "-" else {
                b.book_id: g for b in catalog if (g := shelf_rule(target, b))}
        else:
            raise SystemExit(f"{query!r}: unknown kind {kind!r}")
        grades |= hand.get(query, {})
        grades = {b: g for b, g in grades.items() if g > 0}
        if not grades:
            raise SystemExit(f"{query!r} has no relevant books")
        records.append({"split": split, "query": query, "kind": kind, "target": target,
                        "relevant": sorted(grades, key=int),
                        "grades": {b: grades[b] for b in sorted(grades, key=int)}})
    return records


def check_disjoint(records: list[dict[str, object]]) -> None:
    """Training and evaluation share no query text and no target (book X, author, series)."""
    seen = {(r["kind"], str(r["target"]).lower()) for r in records if r["split"] == "eval" and r["target"] != "-"}
    texts = {str(r["query"]).lower() for r in records if r["split"] == "eval"}
    for r in records:
        if r["split"] == "train" and (str(r["query"]).lower() in texts
                                      or (r["kind"], str(r["target"]).lower()) in seen):
            raise SystemExit(f"training query {r['query']!r} overlaps the evaluation set")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("books", type=Path, help="books.parquet of the full goodbooks catalog")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"), help="the shared data folder")
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where the JSONL go (default: eval/)")
    args = parser.parse_args()
    write_reader_sets(BookCatalog.load(args.books), args.data / RATINGS, args.out_dir)


def write_reader_sets(catalog: BookCatalog, ratings: Path, out_dir: Path) -> None:
    """reader_queries.jsonl (evaluation) and train_reader_queries.jsonl (training) in out_dir."""
    records = grade_all(catalog, ratings)
    check_disjoint(records)
    for split, name in (("eval", "reader_queries.jsonl"), ("train", "train_reader_queries.jsonl")):
        with open(out_dir / name, "w", encoding="utf-8") as out:
            for r in records:
                if r["split"] == split:
                    out.write(json.dumps({k: v for k, v in r.items() if k != "split"}) + "\n")


if __name__ == "__main__":
    main()
