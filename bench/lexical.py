"""Compare BM25 engines (bm25s, tantivy, SQLite FTS5) on build time, query latency and quality."""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from vibeshelf.catalog.books import BookCatalog
from vibeshelf.catalog.schema import read_books
from vibeshelf.search.evaluate import EvalQuery, evaluate, load_queries

K = 100
Searcher = Callable[[str], list[str]]


def docs_of(books: Path) -> tuple[list[str], list[str]]:
    table = read_books(books).select(["book_id", "document"]).to_pydict()
    return table["book_id"], table["document"]


def build_bm25s(ids: list[str], docs: list[str]) -> Searcher:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(docs, stopwords="en", stemmer=stemmer, show_progress=False),
                    show_progress=False)

    def search(q: str) -> list[str]:
        tokens = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        docs_idx, _ = retriever.retrieve(tokens, k=K, show_progress=False, n_threads=1)
        return [ids[i] for i in docs_idx[0]]

    return search


def build_tantivy(ids: list[str], docs: list[str]) -> Searcher:
    import tantivy

    schema = tantivy.SchemaBuilder()
    schema.add_text_field("id", stored=True, tokenizer_name="raw")
    schema.add_text_field("body", tokenizer_name="en_stem")
    index = tantivy.Index(schema.build(), path=tempfile.mkdtemp())
    writer = index.writer(heap_size=50_000_000, num_threads=1)
    for book_id, doc in zip(ids, docs, strict=True):
        writer.add_document(tantivy.Document(id=book_id, body=doc))
    writer.commit()
    index.reload()
    searcher = index.searcher()

    def search(q: str) -> list[str]:
        words = re.findall(r"\w+", q.lower())
        if not words:
            return []
        query = index.parse_query(" ".join(words), ["body"])
        return [searcher.doc(addr)["id"][0] for _, addr in searcher.search(query, K).hits]

    return search


def build_fts5(ids: list[str], docs: list[str]) -> Searcher:
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, body, tokenize='porter')")
    db.executemany("INSERT INTO docs VALUES (?, ?)", zip(ids, docs, strict=True))

    def search(q: str) -> list[str]:
        words = re.findall(r"\w+", q.lower())
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        rows = db.execute("SELECT id FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT ?", (match, K))
        return [r[0] for r in rows]

    return search


ENGINES = {"bm25s": build_bm25s, "tantivy": build_tantivy, "sqlite-fts5": build_fts5}


def measure(name: str, books: Path, queries: list[EvalQuery]) -> dict[str, float]:
    ids, docs = docs_of(books)
    started = time.perf_counter()
    search = ENGINES[name](ids, docs)
    build_s = time.perf_counter() - started
    scores = evaluate(queries, search)
    times = []
    for _ in range(3):
        for q in queries:
            t = time.perf_counter()
            search(q.query)
            times.append((time.perf_counter() - t) * 1000)
    return {"build_s": build_s, "p50_ms": statistics.median(times), **scores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", type=Path, required=True, help="full catalog books.parquet")
    parser.add_argument("--holdout", type=Path, required=True, help="held-out catalog books.parquet")
    parser.add_argument("--eval-dir", type=Path, default=Path("eval"))
    args = parser.parse_args()
    sets = {
        "shelf_vibes": (args.holdout, load_queries(args.eval_dir / "shelf_vibes.jsonl")),
        "tip_of_tongue": (args.full, load_queries(args.eval_dir / "tip_of_tongue.jsonl")),
    }
    BookCatalog.load(args.full)  # fail early on a missing catalog
    print(f"{'engine':<12} {'set':<14} {'build_s':>8} {'p50_ms':>7} {'mrr@10':>7} {'recall@50':>9}")
    for name in ENGINES:
        for set_name, (books, queries) in sets.items():
            r = measure(name, books, queries)
            print(f"{name:<12} {set_name:<14} {r['build_s']:>8.2f} {r['p50_ms']:>7.2f} "
                  f"{r['mrr@10']:>7.3f} {r['recall@50']:>9.3f}")


if __name__ == "__main__":
    main()
