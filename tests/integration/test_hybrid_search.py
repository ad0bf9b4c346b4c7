"""Hybrid, lexical and vector modes on the real sample index: exact matches, explanations, eval."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, run_cli
from vibeshelf.catalog.books import BookCatalog
from vibeshelf.catalog.series import words_key
from vibeshelf.embed.vectors import load_embeddings
from vibeshelf.index.filters import Filter, Tag
from vibeshelf.search.exact import ExactMatcher
from vibeshelf.search.lexical import tokenize
from vibeshelf.search.schemas import SearchParams
from vibeshelf.serve.runtime import Runtime
from vibeshelf.settings import Settings


@pytest.fixture(scope="module")
def runtime(sample_data_dir: Path) -> Runtime:
    settings = Settings(data_dir=sample_data_dir)
    settings.serve.query_log = False
    return Runtime.load(settings)


def unique_titles(runtime: Runtime, n: int) -> list[tuple[str, str]]:
    """(book id, title) of n books spread over the catalog whose title no other book shares."""
    books = sorted(runtime.catalog, key=lambda b: int(b.book_id))
    keys = Counter(words_key(b.title) for b in books)
    unique = [b for b in books if keys[words_key(b.title)] == 1 and len(words_key(b.title)) > 3]
    step = len(unique) // n
    return [(b.book_id, b.title) for b in unique[::step][:n]]


@pytest.mark.parametrize("mode", ["hybrid", "lexical"])
def test_an_exact_title_lands_in_the_top_3(runtime: Runtime, mode: str) -> None:
    for book_id, title in unique_titles(runtime, 12):
        results = runtime.search.search(SearchParams(q=title, mode=mode, explain=True)).results  # type: ignore[arg-type]
        top = [r.book_id for r in results[:3]]
        assert book_id in top, (title, [r.title for r in results[:3]])
        hit = results[top.index(book_id)]
        assert hit.explanation is not None and hit.explanation.exact_match == "title"


def test_an_exact_author_fills_the_top_3_with_their_most_rated_books(runtime: Runtime) -> None:
    by_author = Counter(a for b in runtime.catalog for a in b.authors)
    author = next(a for a, n in by_author.most_common() if n >= 5 and " " in a)
    results = runtime.search.search(SearchParams(q=author.upper())).results
    assert all(author in r.authors for r in results[:3]), [r.authors for r in results[:3]]
    theirs = sorted((b for b in runtime.catalog if author in b.authors), key=lambda b: -b.ratings_count)
    assert results[0].book_id == theirs[0].book_id


def test_vector_mode_promotes_nothing(runtime: Runtime) -> None:
    matcher = ExactMatcher(runtime.catalog)
    title = unique_titles(runtime, 12)[5][1]
    assert matcher.match(title)
    response = runtime.search.search(SearchParams(q=title, mode="vector", explain=True))
    assert response.mode == "vector" and not response.reranked
    assert all(r.explanation.exact_match is None for r in response.results)  # type: ignore[union-attr]


def test_explanations_say_what_is_shared_and_where_each_retriever_ranked(runtime: Runtime) -> None:
    query = "a haunted house with ghosts and a family secret"
    stems = set(tokenize(query))
    for mode in ("vector", "lexical", "hybrid"):
        response = runtime.search.search(SearchParams(q=query, mode=mode, explain=True, limit=10))  # type: ignore[arg-type]
        results = response.results
        assert results
        for r in results:
            why = r.explanation
            assert why is not None
            assert set(why.shared_words) <= set(query.split())
            book = runtime.catalog.get(r.book_id)
            assert set(why.shared_shelves) <= set(book.shelves)
            assert all(set(tokenize(s.replace("-", " "))) & stems for s in why.shared_shelves)
            if mode == "lexical":
                assert why.shared_words and why.lexical_rank is not None
            if mode == "vector":
                assert why.vector_rank is not None
            if mode == "hybrid":
                assert why.vector_rank or why.lexical_rank or why.description_rank
            else:
                assert why.description_rank is None  # only hybrid retrieval has the third list
        first = results[0].explanation
        if mode == "vector":
            assert first.vector_rank == 1  # type: ignore[union-attr]
        if mode == "lexical":
            assert first.lexical_rank == 1  # type: ignore[union-attr]
    plain = runtime.search.search(SearchParams(q=query))
    assert plain.mode == "hybrid" and plain.reranked
    assert all(r.explanation is None for r in plain.results)


def test_lexical_and_hybrid_modes_respect_filters(runtime: Runtime) -> None:
    for mode in ("lexical", "hybrid"):
        results = runtime.search.search(SearchParams(
            q="magic school wizard", mode=mode, shelves=["fantasy"], year_min=1995, year_max=2005, limit=30,  # type: ignore[arg-type]
        )).results
        assert results
        for r in results:
            book = runtime.catalog.get(r.book_id)
            assert "fantasy" in book.shelves and 1995 <= book.year <= 2005


def test_hybrid_fuses_the_books_whose_descriptions_are_nearest(runtime: Runtime) -> None:
    """The third list: exact nearest descriptions, filtered like the others, fused by rank."""
    search = runtime.search
    query = "a lonely lighthouse keeper finds a baby washed ashore"
    found = search.retrieve(query, "hybrid", Filter(), 30)
    assert found.vector is not None and len(found.description_ids) == 30
    settings = runtime.settings
    descriptions = load_embeddings(settings.embeddings_dir, settings.model.name, "description")
    sims = descriptions.vectors @ found.vector
    best = [descriptions.ids[i] for i in np.argsort(-sims, kind="stable")[:30]]
    assert found.description_ids == best
    fused = dict(search.fused(found))
    only = [i for i in found.description_ids if i not in found.vector_ids + found.lexical_ids]
    assert only and all(i in fused for i in only)
    assert search.retrieve(query, "vector", Filter(), 30).description_ids == []
    shelf = Filter.of(Tag.any_of("shelves", "fantasy"))
    kept = search.retrieve(query, "hybrid", shelf, 30).description_ids
    assert kept and all("fantasy" in runtime.catalog.get(i).shelves for i in kept)  # type: ignore[union-attr]


def test_eval_search_prints_every_mode_and_compares_with_the_previous_build(
    sample_data_dir: Path, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(sample_data_dir, data_dir, ignore=shutil.ignore_patterns("logs"))
    queries = tmp_path / "q.jsonl"
    titles = unique_titles(Runtime.load(Settings(data_dir=data_dir)), 3)
    queries.write_text("".join(json.dumps({"query": t, "relevant": [i]}) + "\n" for i, t in titles))
    out = run_cli("eval", "search", "--queries", str(queries), data_dir=data_dir).stdout
    lines = out.splitlines()
    assert lines[0] == "q (3 queries)"
    columns = lines[1].split()
    assert columns == ["mrr@10", "ndcg@10", "p@10", "recall@10", "recall@50", "hijack@3", "p50_ms"]
    rows = {line.split()[0]: dict(zip(columns, map(float, line.split()[1:]), strict=True))
            for line in lines[2:6]}
    assert list(rows) == ["vector", "lexical", "hybrid", "hybrid+rerank"]
    # An exact title is promoted to the top: reciprocal rank 1 for every query, one book of ten.
    for variant in ("lexical", "hybrid", "hybrid+rerank"):
        assert [rows[variant][c] for c in ("mrr@10", "ndcg@10", "recall@10", "p@10")] == [1, 1, 1, 0.1]
    assert lines[7] == "MRR@10 against vector, with a paired bootstrap 95% interval over the 3 queries:"
    gains = {line.split()[0]: line.split()[1] for line in lines[8:11]}
    vector_gain = f"{1 / rows['vector']['mrr@10'] - 1:+.1%}"  # the others score 1.0
    assert gains == {"lexical": vector_gain, "hybrid": vector_gain, "hybrid+rerank": vector_gain}
    none = run_cli("eval", "search", "--queries", str(queries), "--previous", data_dir=data_dir, check=False)
    assert none.returncode == 2 and "no previous build" in none.stderr
    run_cli("index", data_dir=data_dir)
    both = run_cli("eval", "search", "--queries", str(queries), "--previous", data_dir=data_dir).stdout
    labels = [line.split(":")[0] for line in both.splitlines()[2:10]]
    assert [label.split()[0] for label in labels] == ["current"] * 4 + ["previous"] * 4
    assert labels[0].split()[1] != labels[4].split()[1]  # different build ids
    bad = run_cli("eval", "search", "--queries", str(tmp_path / "missing.jsonl"), data_dir=data_dir, check=False)
    assert bad.returncode == 2 and "no query file" in bad.stderr


def test_eval_search_refuses_held_out_shelves_the_catalog_still_has(
    sample_data_dir: Path, tmp_path: Path
) -> None:
    queries = tmp_path / "vibes.jsonl"
    first, second = list(BookCatalog.load(sample_data_dir / "catalog" / "books.parquet"))[:2]
    rows = [
        {"query": "cozy", "relevant": [first.book_id], "holdout": ["cozy-mystery", "no-such-shelf"]},
        {"query": "dragons and wizards", "relevant": [second.book_id], "holdout": ["no-such-shelf"]},
    ]
    queries.write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = ("eval", "search", "--queries", str(queries))
    refused = run_cli(*args, data_dir=sample_data_dir, check=False)
    assert refused.returncode == 2 and not refused.stdout
    message = refused.stderr
    assert "vibes on" in message and "held-out shelves or genres cozy mystery, cozy-mystery" in message
    assert "no-such-shelf" not in message
    assert "holdout_catalog" in message and "--allow-leak" in message
    allowed = run_cli(*args, "--allow-leak", data_dir=sample_data_dir)
    assert allowed.stdout.splitlines()[0] == "vibes (2 queries)"
    queries.write_text(json.dumps(rows[1]) + "\n")  # held out shelves the catalog lacks: no leak
    clean = run_cli(*args, data_dir=sample_data_dir)
    assert clean.stdout.splitlines()[0] == "vibes (1 queries)"


def test_eval_search_puts_every_set_side_by_side_and_skips_a_set_the_catalog_lacks(
    sample_data_dir: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_text(json.dumps({"query": "a ghost story", "relevant": ["not-in-this-catalog"]}) + "\n")
    sets = [REPO / "eval" / "reader_queries.jsonl", REPO / "eval" / "tip_of_tongue.jsonl", elsewhere]
    args = ["eval", "search", *(a for path in sets for a in ("--queries", str(path)))]
    out = run_cli(*args, data_dir=sample_data_dir).stdout
    assert f"elsewhere: skipped, none of its books are in the catalog at {sample_data_dir}" in out
    total = sum(1 for _ in (REPO / "eval" / "reader_queries.jsonl").open())
    counted = re.search(r"^reader_queries \((\d+) queries(?:, (\d+) left out)?", out, re.MULTILINE)
    assert counted and int(counted[1]) + int(counted[2] or 0) == total and int(counted[1]) > 0
    side = out.split("Every set side by side")[1].splitlines()[1:]
    assert side[0].split() == ["reader_queries", "ndcg@10", "reader_queries", "p@10",
                               "tip_of_tongue", "mrr@10", "mean", "hijack@3"]
    assert [line.split()[0] for line in side[1:]] == ["vector", "lexical", "hybrid", "hybrid+rerank"]
    report = json.loads(run_cli(*args, "--json", data_dir=sample_data_dir).stdout)
    assert set(report["sets"]) == {"reader_queries", "tip_of_tongue"} and "elsewhere" in report["skipped"]
    assert report["sets"]["reader_queries"]["graded"] and not report["sets"]["tip_of_tongue"]["graded"]
    hybrid = report["sets"]["reader_queries"]["rows"]["hybrid"]["ndcg@10"]
    assert len(hybrid["per_query"]) == int(counted[1])
    assert hybrid["interval"][0] <= hybrid["value"] <= hybrid["interval"][1]
    cell = report["side_by_side"]["hybrid"]["reader_queries ndcg@10"]
    assert cell["value"] == pytest.approx(hybrid["value"])
    text_cell = next(line for line in side if line.startswith("hybrid ")).split()[1]
    assert float(text_cell) == pytest.approx(hybrid["value"], abs=5e-4)
