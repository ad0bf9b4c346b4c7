"""The committed evaluation and training query sets: rebuilt from the real goodbooks catalog they
match byte for byte, and the training set shares no shelf or book with the evaluation sets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED_DATA, eval_script
from vibeshelf.catalog.books import Book, BookCatalog
from vibeshelf.catalog.table import IngestReport
from vibeshelf.search.evaluate import EvalQuery, check_holdout, load_queries

build_sets = eval_script("build_sets")
fit_rerank = eval_script("fit_rerank")
EVAL = REPO / "eval"


def book(book_id: str, *shelves: str) -> Book:
    return Book(book_id, f"title {book_id}", ["someone"], None, None, None, 1, list(shelves), None, None,
                None, None)


def test_a_shelf_is_held_out_with_its_word_order_twins() -> None:
    catalog = BookCatalog([
        book("1", "cozy-mystery", "mystery"),
        book("2", "mystery-cozy"),
        book("3", "mystery", "cozy"),
        book("4", "cozy-mysteries"),
    ])
    assert build_sets.shelf_holdout(catalog, "cozy-mystery") == (["cozy-mystery", "mystery-cozy"], ["1", "2"])
    assert build_sets.shelf_holdout(catalog, "mystery") == (["mystery"], ["1", "3"])


@pytest.fixture(scope="module")
def full(ingested: IngestReport) -> BookCatalog:
    return BookCatalog.load(ingested.out_path)


def test_evaluation_sets_rebuild_from_their_tsvs(full: BookCatalog, tmp_path: Path) -> None:
    build_sets.write_sets(full, tmp_path)
    for name in ("shelf_vibes.jsonl", "tip_of_tongue.jsonl"):
        assert (tmp_path / name).read_bytes() == (EVAL / name).read_bytes(), f"eval/{name} is stale"
    shelf_vibes = load_queries(EVAL / "shelf_vibes.jsonl")
    assert len(shelf_vibes) >= 40 and all(q.holdout for q in shelf_vibes)
    assert len(load_queries(EVAL / "tip_of_tongue.jsonl")) >= 30


@pytest.fixture(scope="module")
def prepared(ingested: IngestReport, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(training queries, the data dir with the training catalog) written by `prepare`."""
    out = tmp_path_factory.mktemp("train")
    fit_rerank.prepare(ingested.out_path, out / "data", out / "train_queries.jsonl")
    return out / "train_queries.jsonl", out / "data"


def test_training_set_rebuilds_and_is_disjoint_from_the_evaluation_sets(
    prepared: tuple[Path, Path], full: BookCatalog
) -> None:
    train_file, data_dir = prepared
    assert train_file.read_bytes() == (EVAL / "train_queries.jsonl").read_bytes(), "eval/train_queries.jsonl is stale"
    train = load_queries(train_file)
    shelf_queries = [q for q in train if q.holdout]
    eval_shelves = {s for q in load_queries(EVAL / "shelf_vibes.jsonl") for s in q.holdout}
    eval_books = {b for q in load_queries(EVAL / "tip_of_tongue.jsonl") for b in q.relevant}
    assert not eval_shelves & {s for q in shelf_queries for s in q.holdout}
    assert not eval_books & {b for q in train if not q.holdout for b in q.relevant}
    # Every twin of a training shelf is held out with it, and the training catalog has none left.
    for q in shelf_queries:
        assert set(q.holdout) == set(build_sets.shelf_holdout(full, q.holdout[0])[0])
    check_holdout(shelf_queries, BookCatalog.load(data_dir / "catalog" / "books.parquet"), "train")


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if len(w) > 1}


def test_generated_blurb_queries_leave_out_their_books_title(prepared: tuple[Path, Path], full: BookCatalog) -> None:
    blurbs: list[EvalQuery] = [q for q in load_queries(prepared[0]) if not q.holdout][-fit_rerank.N_BLURBS :]
    assert len(blurbs) == fit_rerank.N_BLURBS
    for q in blurbs:
        (book_id,) = q.relevant
        title = full.get(book_id).title  # type: ignore[union-attr]
        assert not words(title) & words(q.query), (title, q.query)


build_reader_set = eval_script("build_reader_set")


def test_reader_rules_grade_series_editions_and_shelves() -> None:
    hunger = Book("1", "The Hunger Games (The Hunger Games, #1)", ["Suzanne Collins"], None, None, None, 1,
                  ["ya-dystopia", "young-adult"], None, None, None, "w1")
    fire = Book("2", "Catching Fire (The Hunger Games, #2)", ["Suzanne Collins"], None, None, None, 1,
                ["young-adult", "sci-fi"], None, None, None, "w2")
    boxed = Book("3", "The Hunger Games Box Set (The Hunger Games, #1-3)", ["Suzanne Collins"], None,
                 None, None, 1, [], None, None, None, "w3")
    guide = Book("4", "The Hunger Games Tribute Guide", ["Emily Seife"], None, None, None, 1, [], None,
                 None, None, "w4")
    novella = Book("5", "A Tale (The Hunger Games, #0.5)", ["Suzanne Collins"], None, None, None, 1, [],
                   None, None, None, "w5")
    assert [build_reader_set.series_grade("The Hunger Games", b) for b in (hunger, fire, boxed, guide, novella)] \
        == [2, 2, 0, 0, 1]
    assert [build_reader_set.is_edition_of(hunger, b) for b in (hunger, fire, boxed, guide)] \
        == [True, False, True, True]
    rule = "2=ya-dystopia; 1=young-adult|teen&sci-fi|science-fiction"
    assert [build_reader_set.shelf_rule(rule, b) for b in (hunger, fire, boxed)] == [2, 1, 0]


def test_reader_sets_rebuild_and_training_never_overlaps_evaluation(full: BookCatalog, tmp_path: Path) -> None:
    build_reader_set.write_reader_sets(full, SHARED_DATA / build_reader_set.RATINGS, tmp_path)
    for name in ("reader_queries.jsonl", "train_reader_queries.jsonl"):
        assert (tmp_path / name).read_bytes() == (EVAL / name).read_bytes(), f"eval/{name} is stale"
    evaluation = load_queries(EVAL / "reader_queries.jsonl")
    training = load_queries(EVAL / "train_reader_queries.jsonl")
    assert len(evaluation) >= 60 and len(training) >= 30
    assert not {q.query.lower() for q in evaluation} & {q.query.lower() for q in training}
    assert all(set(q.graded().values()) <= {1, 2} and 2 in q.graded().values() for q in evaluation)
    with pytest.raises(SystemExit, match="overlaps the evaluation set"):
        build_reader_set.check_disjoint([
            {"split": "eval", "kind": "like", "target": "494", "query": "books like the secret history"},
            {"split": "train", "kind": "like", "target": "494", "query": "similar to the secret history"},
        ])
