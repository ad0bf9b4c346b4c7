"""The BM25 index: tokens, ranking, filtering and atomic persistence."""

from __future__ import annotations

import json
from pathlib import Path

import bm25s
import numpy as np
import pytest

from vibeshelf.catalog.schema import ARROW_SCHEMA
from vibeshelf.search.lexical import LexicalStore, terms, tokenize
from vibeshelf.search.lexical_fields import FIELDS, field_texts
from vibeshelf.storage import builds
from vibeshelf.storage.errors import StoreError

DOCS = {
    "1": "The Cat Who Knew. Shelves: cozy mystery. A cat and a librarian solve a village murder.",
    "2": "Dragonrider. Shelves: fantasy, dragons. A girl bonds with a dragon.",
    "3": "Murder at the Vicarage. Shelves: mystery, cozy mystery. The vicar is found dead.",
}


def test_tokens_are_lowercase_stems_without_stop_words_or_single_letters() -> None:
    assert tokenize("The Cats' MYSTERIES, running a bakery!") == ["cat", "mysteri", "run", "bakeri"]
    assert terms("Running cats") == [("running", "run"), ("cats", "cat")]


def test_search_ranks_matches_and_skips_books_without_any_word(tmp_path: Path) -> None:
    index = LexicalStore(tmp_path).rebuild(list(DOCS), {"document": list(DOCS.values())}, "sum")
    top = index.top(index.scores("cozy murder mysteries"), k=10)
    assert [book_id for book_id, _ in top][:2] in (["1", "3"], ["3", "1"])
    assert "2" not in {book_id for book_id, _ in top}
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    assert not index.scores("zebra quantum").any()
    assert index.top(index.scores("murder"), k=10, keep=lambda book_id: book_id != "3") == [
        ("1", pytest.approx(float(index.scores("murder")[0])))
    ]


def test_builds_persist_and_a_failed_build_keeps_the_served_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LexicalStore(tmp_path, keep_builds=2)
    first = store.rebuild(list(DOCS), {"document": list(DOCS.values())}, "sum-1")
    reopened = store.open()
    assert reopened.manifest.build_id == first.manifest.build_id
    assert reopened.manifest.catalog_checksum == "sum-1"
    np.testing.assert_allclose(reopened.scores("dragon"), first.scores("dragon"))
    reopened.lease.close()  # done with it: a build still open would be kept by pruning
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(bm25s.BM25, "save", disk_full)
    with pytest.raises(OSError, match="disk full"):
        store.rebuild(list(DOCS), {"document": list(DOCS.values())}, "sum-2")
    monkeypatch.undo()
    assert store.open().manifest.build_id == first.manifest.build_id
    assert not list(tmp_path.glob(".tmp-*"))
    for n in range(3):
        store.rebuild(list(DOCS), {"document": list(DOCS.values())}, f"sum-{n + 3}")
    assert len(list((tmp_path / "builds").iterdir())) == 2
    assert store.open().manifest.catalog_checksum == "sum-5"


def test_open_without_a_build_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="vibeshelf index"):
        LexicalStore(tmp_path).open()


BOOKS = {  # a title word ("Dragon") in one book, the same word in another's genres and blurb
    "1": {"title": "The Dragon Cookbook", "authors": ["Ann Cook"], "genres": ["cooking"],
          "shelves": ["cookbooks"], "description": "Recipes for the home kitchen."},
    "2": {"title": "Fire Rider", "authors": ["Bo Lee"], "genres": ["fantasy"],
          "shelves": ["dragons"], "description": "A girl bonds with a dragon and flies to war."},
    "3": {"title": "Untitled 3", "authors": None, "genres": None, "shelves": None, "description": None},
}


def test_fields_are_indexed_apart_and_weighted_at_query_time(tmp_path: Path) -> None:
    columns = {name: [book.get(name) for book in BOOKS.values()] for name in ARROW_SCHEMA.names}
    columns["document"] = [f"{b['title']}. {b['description'] or ''}" for b in BOOKS.values()]
    texts = field_texts(columns, len(BOOKS))
    assert set(texts) == set(FIELDS)
    assert texts["shelves"] == ["cooking cookbooks", "fantasy dragons", ""]
    assert texts["authors"][2] == "" and texts["title"][2] == "Untitled 3"
    store = LexicalStore(tmp_path)
    store.rebuild(list(BOOKS), texts, "sum")
    index = store.open()
    assert index.manifest.fields == list(FIELDS)
    assert all((tmp_path / "builds" / index.manifest.build_id / d).is_dir() for d in ("bm25", "bm25-title"))
    assert index.top(index.scores("dragon", {"title": 1.0}), k=3)[0][0] == "1"
    weights = {"title": 0.1, "shelves": 1.0, "description": 1.0}
    assert [book_id for book_id, _ in index.top(index.scores("dragon", weights), k=3)] == ["2", "1"]
    np.testing.assert_allclose(
        index.scores("dragon", weights),
        0.1 * index.field_scores("dragon", "title")
        + index.field_scores("dragon", "shelves")
        + index.field_scores("dragon", "description"),
        rtol=1e-6,
    )
    unusable = {"genres_typo": 2.0, "title": 0.0}  # nothing usable: the whole document
    np.testing.assert_allclose(index.scores("dragon", unusable), index.field_scores("dragon", "document"))


def test_a_build_from_before_fields_opens_as_its_document_alone(tmp_path: Path) -> None:
    store = LexicalStore(tmp_path)
    built = store.rebuild(list(DOCS), {"document": list(DOCS.values())}, "sum")
    manifest = tmp_path / "builds" / built.manifest.build_id / "manifest.json"
    data = json.loads(manifest.read_text())
    del data["fields"]
    manifest.write_text(json.dumps(data))
    (manifest.parent / builds.CHECKSUMS).unlink()
    builds.write_checksums(manifest.parent)
    index = store.open()
    assert index.manifest.fields == ["document"]
    np.testing.assert_allclose(index.scores("dragon", {"title": 2.0, "description": 1.0}), built.scores("dragon"))


def test_a_field_no_book_has_is_left_out_of_the_build(tmp_path: Path) -> None:
    store = LexicalStore(tmp_path)
    texts = {"document": ["Untitled 1. A dragon tale.", "Untitled 2. Cats."], "authors": ["", ""],
             "description": ["A dragon tale.", "Cats."]}
    store.rebuild(["1", "2"], texts, "sum")
    index = store.open()
    assert index.manifest.fields == ["document", "description"]
    scores = index.scores("dragon", {"authors": 1.0, "description": 1.0})
    np.testing.assert_allclose(scores, index.field_scores("dragon", "description"))
    assert scores[0] > 0 == scores[1]


@pytest.mark.parametrize("query", ["cozy murder mysteries", "murder murder cat", "dragon", "zebra cat"])
def test_field_scores_are_the_scores_bm25s_computes(tmp_path: Path, query: str) -> None:
    index = LexicalStore(tmp_path).rebuild(list(DOCS), {"document": list(DOCS.values())}, "sum")
    bm25 = index.bm25["document"]
    expected = bm25.get_scores([s for s in tokenize(query) if s in bm25.vocab_dict])
    np.testing.assert_array_equal(index.field_scores(query, "document"), expected)
    assert index.field_scores(query, "document").dtype == expected.dtype
