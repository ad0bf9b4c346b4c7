"""Search evaluation: metrics against hand-computed values, query files, held-out catalogs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from vibeshelf.catalog.books import Book, BookCatalog
from vibeshelf.catalog.sample import SAMPLE_PATH
from vibeshelf.search.eval_report import bootstrap_interval, format_side_by_side, side_by_side
from vibeshelf.search.evaluate import (
    EvalQuery,
    EvalSetError,
    SetScores,
    check_holdout,
    format_gains,
    format_table,
    holdout_catalog,
    in_catalog,
    load_queries,
    mrr_gain,
    score_rankings,
)


def test_metrics_match_hand_computed_values() -> None:
    rankings = [["a", "b", "c"], ["x", "y", "z"], ["p"]]
    relevant = [frozenset({"b"}), frozenset({"x", "z", "w"}), frozenset({"q"})]
    scored = score_rankings(rankings, relevant)
    scores = scored.metrics
    assert scored.reciprocal_ranks.tolist() == [1 / 2, 1, 0]
    # first relevant at rank 2, rank 1, never
    assert scores["mrr@10"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    ndcg_1 = (1 / math.log2(3)) / 1
    ndcg_2 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3) + 1 / math.log2(4))
    assert scores["ndcg@10"] == pytest.approx((ndcg_1 + ndcg_2) / 3)
    assert scores["recall@10"] == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert scores["recall@50"] == pytest.approx(scores["recall@10"])


def test_cutoffs_separate_top_10_from_top_50() -> None:
    ranking = [f"n{i}" for i in range(30)]  # the relevant book is 20th
    scores = score_rankings([ranking], [frozenset({"n19"})]).metrics
    assert scores["mrr@10"] == 0 and scores["recall@10"] == 0 and scores["ndcg@10"] == 0
    assert scores["recall@50"] == 1


def test_load_queries_reads_jsonl_and_rejects_bad_lines(tmp_path: Path) -> None:
    good = tmp_path / "q.jsonl"
    good.write_text(json.dumps({"query": "ghosts", "relevant": [1, "2"], "holdout": ["ghosts"]}) + "\n\n")
    (query,) = load_queries(good)
    assert query.relevant == frozenset({"1", "2"}) and query.holdout == ("ghosts",)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "x"}\n')
    with pytest.raises(EvalSetError, match="bad.jsonl:1"):
        load_queries(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text(json.dumps({"query": "x", "relevant": []}) + "\n")
    with pytest.raises(EvalSetError, match="no relevant"):
        load_queries(empty)
    with pytest.raises(EvalSetError, match="no query file"):
        load_queries(tmp_path / "missing.jsonl")


def test_table_lists_every_variant_and_metric() -> None:
    row = {"mrr@10": 0.5, "ndcg@10": 0.25, "recall@10": 0.125, "recall@50": 1.0}
    table = format_table({"vector": row, "hybrid": {**row, "mrr@10": 0.75}})
    lines = table.splitlines()
    assert lines[0].split() == ["mrr@10", "ndcg@10", "recall@10", "recall@50"]
    assert lines[2].split() == ["hybrid", "0.7500", "0.2500", "0.1250", "1.0000"]


def test_holdout_catalog_removes_shelves_from_lists_and_documents_and_their_genre(
    tmp_path: Path,
) -> None:
    out = tmp_path / "books.parquet"
    changed = holdout_catalog(SAMPLE_PATH, out, ["cozy-mystery"])
    rows = pq.read_table(out, columns=["shelves", "genres", "document"]).to_pylist()
    assert changed > 0
    assert not any("cozy-mystery" in r["shelves"] for r in rows)
    assert not any("cozy mystery" in r["document"] for r in rows)
    # mystery-cozy, a shelf not held out, names the same genre: the genre goes all the same.
    assert not any("cozy mystery" in r["genres"] for r in rows)
    assert any("mystery-cozy" in r["shelves"] for r in rows)
    assert any("mystery" in r["genres"] for r in rows)
    before = pq.read_table(SAMPLE_PATH, columns=["genres"]).column("genres").to_pylist()
    assert sum("cozy mystery" in g for g in before) == changed


def test_check_holdout_refuses_a_catalog_that_still_has_the_shelves(tmp_path: Path) -> None:
    queries = [
        EvalQuery("a gentle whodunit", frozenset({"1"}), ("cozy-mystery", "mystery-cozy")),
        EvalQuery("dragons", frozenset({"2"}), ("dragons", "no-such-shelf")),
        EvalQuery("a title", frozenset({"3"})),
    ]
    full = BookCatalog.load(SAMPLE_PATH)
    assert full.shelf_counts["cozy-mystery"] and full.shelf_counts["mystery-cozy"]
    with pytest.raises(EvalSetError, match=r"^vibes: .*held-out shelves or genres cozy mystery, "
                                           r"cozy-mystery, dragons, mystery-cozy, which give "
                                           r".*holdout_catalog") as caught:
        check_holdout(queries, full, "vibes")
    assert "no-such-shelf" not in str(caught.value)
    held_out = tmp_path / "books.parquet"
    holdout_catalog(SAMPLE_PATH, held_out, {s for q in queries for s in q.holdout})
    check_holdout(queries, BookCatalog.load(held_out), "vibes")  # nothing leaks
    check_holdout(queries[2:], full, "titles")  # no holdout field: nothing to check


def test_check_holdout_names_at_most_five_shelves() -> None:
    shelves = tuple(f"shelf-{i}" for i in range(7))
    catalog = BookCatalog([Book("1", "T", [], None, None, None, 1, list(shelves), None, None, None, None)])
    with pytest.raises(EvalSetError, match="shelf-0, shelf-1, shelf-2, shelf-3, shelf-4 and 2 "):
        check_holdout([EvalQuery("q", frozenset({"1"}), shelves)], catalog, "q")


def test_mrr_gain_of_a_constant_ratio_has_no_spread() -> None:
    base = np.array([1, 1 / 2, 1 / 4, 0, 1 / 3])
    doubled = mrr_gain(base, 2 * base)
    assert doubled.relative == doubled.low == pytest.approx(doubled.high) == pytest.approx(1.0)
    same = mrr_gain(base, base)
    assert (same.relative, same.low, same.high) == (0.0, 0.0, 0.0)


def test_mrr_gain_interval_is_paired_and_widens_with_fewer_queries() -> None:
    rng = np.random.default_rng(3)
    base = rng.choice([0, 1 / 3, 1 / 2, 1], size=400)
    better = np.where(rng.random(400) < 0.3, 1.0, base)  # 30 % of queries moved to rank 1
    gain = mrr_gain(base, better)
    assert gain.relative == pytest.approx(better.mean() / base.mean() - 1)
    assert 0 < gain.low < gain.relative < gain.high
    few = mrr_gain(base[:40], better[:40])
    assert few.high - few.low > gain.high - gain.low
    # Pairing: a shuffled copy of the same scores loses the per-query link and spreads wider.
    unpaired = mrr_gain(base, rng.permutation(better))
    assert unpaired.high - unpaired.low > gain.high - gain.low


def test_mrr_gain_needs_a_baseline_that_finds_something() -> None:
    assert np.isnan(mrr_gain(np.zeros(3), np.ones(3)).relative)
    with pytest.raises(ValueError, match="same queries"):
        mrr_gain(np.ones(3), np.ones(4))


def test_format_gains_lists_every_variant_against_vector() -> None:
    scored = {
        "vector": SetScores({}, np.array([1, 0.5, 0.5, 0])),
        "hybrid": SetScores({}, np.array([1, 1, 0.5, 0])),
        "lexical": SetScores({}, np.zeros(4)),
    }
    lines = format_gains(scored).splitlines()
    assert lines[0] == "MRR@10 against vector, with a paired bootstrap 95% interval over the 4 queries:"
    assert lines[1].split()[:2] == ["hybrid", "+25.0%"]
    assert lines[2].split()[:2] == ["lexical", "-100.0%"]
    assert len(lines) == 3


def test_graded_metrics_and_hijacks_match_hand_computed_values() -> None:
    rankings = [["a", "b", "c"], ["x", "y"]]
    relevant = [frozenset({"a", "c", "d"}), frozenset({"z"})]
    grades = [{"a": 1, "c": 2, "d": 2}, {}]  # "z" has no grade given: it counts as 1
    scored = score_rankings(rankings, relevant, grades, hijacks=[1 / 3, 0])
    ndcg_1 = (1 + 2 / math.log2(4)) / (2 + 2 / math.log2(3) + 1 / math.log2(4))
    assert scored.per_query["ndcg@10"].tolist() == pytest.approx([ndcg_1, 0])
    assert scored.per_query["p@10"].tolist() == pytest.approx([0.2, 0])
    assert scored.metrics["hijack@3"] == pytest.approx(1 / 6)
    assert scored.metrics["mrr@10"] == pytest.approx(0.5)


def test_queries_keep_their_grades_and_are_narrowed_to_the_catalog(tmp_path: Path) -> None:
    path = tmp_path / "reader.jsonl"
    rows = [{"query": "dogs", "relevant": ["1", "2"], "grades": {"1": 2, "2": 1}},
            {"query": "cats", "relevant": ["no-such-book"]}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    dogs, cats = load_queries(path)
    assert dogs.graded() == {"1": 2, "2": 1} and cats.graded() == {"no-such-book": 1}
    catalog = BookCatalog.load(SAMPLE_PATH)
    in_sample = next(b.book_id for b in catalog)
    narrowed = in_catalog([EvalQuery("q", frozenset({in_sample, "not-a-book"}), grades={in_sample: 2}), cats],
                          catalog)
    assert [q.relevant for q in narrowed] == [frozenset({in_sample})]
    assert narrowed[0].graded() == {in_sample: 2}


def test_side_by_side_takes_each_sets_headline_with_its_interval() -> None:
    def scores(**per_query: list[float]) -> SetScores:
        arrays = {k.replace("_", "@"): np.array(v) for k, v in per_query.items()}
        return SetScores({k: float(v.mean()) for k, v in arrays.items()}, arrays["mrr@10"], arrays)

    results = {
        "reader": {"hybrid": scores(mrr_10=[1, 0], ndcg_10=[0.5, 0.5], p_10=[0.2, 0.4], hijack_3=[0, 1])},
        "tip": {"hybrid": scores(mrr_10=[1, 0.5, 0], ndcg_10=[1, 1, 1], p_10=[0, 0, 0], hijack_3=[0, 0, 0])},
    }
    table = side_by_side(results, {"reader": True, "tip": False})["hybrid"]
    assert list(table) == ["reader ndcg@10", "reader p@10", "tip mrr@10", "mean", "hijack@3"]
    assert table["reader ndcg@10"] == {"value": 0.5, "interval": [0.5, 0.5]}  # no spread
    assert table["mean"]["value"] == pytest.approx((0.5 + 0.5) / 2)
    assert table["hijack@3"]["value"] == pytest.approx(1 / 5)  # pooled over the five queries
    low, high = table["tip mrr@10"]["interval"]
    assert 0 <= low < 0.5 < high <= 1
    text = format_side_by_side(side_by_side(results, {"reader": True, "tip": False}))
    assert text.splitlines()[1].split()[:3] == ["hybrid", "0.500", "(0.500-0.500)"]


def test_bootstrap_interval_narrows_with_more_queries() -> None:
    few = bootstrap_interval(np.array([0.0, 1.0] * 5))
    many = bootstrap_interval(np.array([0.0, 1.0] * 500))
    assert few[0] < many[0] < 0.5 < many[1] < few[1]
