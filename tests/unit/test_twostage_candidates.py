"""The two-stage first stage's pieces: co-read neighbour lists (the model's and another source's),
their per-reader merge, the reader vector for model readers, liked lists and readers the model does
not know, and a request's books computed once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp

from vibeshelf.config.recommend import RecommendSettings
from vibeshelf.index.base import Hit
from vibeshelf.recommend.artifacts import RecsModel
from vibeshelf.recommend.items import ItemTable
from vibeshelf.recommend.models.als import fold_in
from vibeshelf.recommend.retrieval import SourceContext
from vibeshelf.recommend.sources import Profile
from vibeshelf.recommend.storage.base import SCHEMA, SourceInfo
from vibeshelf.recommend.storage.sqlite import SqliteStore
from vibeshelf.recommend.twostage import neighbour_table
from vibeshelf.recommend.twostage import reader as reader_module
from vibeshelf.recommend.twostage.extra_sources import co_reads_source
from vibeshelf.recommend.twostage.neighbour_table import (
    StoreLikedVectors,
    TableItemItem,
    co_read_table,
)
from vibeshelf.recommend.twostage.reader import (
    ReaderFactors,
    RequestHistory,
    history_items,
    plain_model_reader,
    reader_vector,
)
from vibeshelf.settings import Settings

# Four readers over five books: b1 and b2 are read together twice, b1 and b3 once, b5 by nobody.
SEEN = np.array(
    [[1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [0, 0, 1, 1, 0], [0, 0, 0, 1, 0]], np.float32
)


def model() -> RecsModel:
    ids = [f"b{i + 1}" for i in range(5)]
    rng = np.random.default_rng(3)
    return RecsModel(
        users=["u1", "u2", "u3", "u4"],
        items=ItemTable(ids, ids, [[] for _ in ids], [[] for _ in ids], [[] for _ in ids]),
        user_factors=rng.standard_normal((4, 3)).astype(np.float32),
        item_factors=rng.standard_normal((5, 3)).astype(np.float32),
        seen=sp.csr_matrix(SEEN),
        counts=SEEN.sum(axis=0).astype(np.int64),
        metadata={"params": {"regularization": 1.0, "alpha": 2.0}},
    )


def test_co_read_lists_hold_reader_set_cosines_best_first_without_the_book_itself() -> None:
    table = co_read_table(sp.csr_matrix(SEEN), width=3)
    # b1 (readers u1 u2) and b2 (u1 u2): cosine 1; b1 and b3 (u2 u3): 1 / 2.
    assert table.items[0].tolist() == [1, 2, -1]
    assert table.similarity[0, :2] == pytest.approx([1.0, 0.5])
    assert (table.items[4] == -1).all()  # nobody read b5: no neighbours
    assert 2 not in table.items[2]


def test_item_item_averages_over_every_read_book_and_skips_them() -> None:
    m = model()
    source = TableItemItem(m, co_read_table(m.seen, width=4))
    found = source.personalised(Profile(liked=("b1", "b4")), 5)
    assert found is not None
    scores = {c.item_id: c.score for c in found.candidates}
    assert set(scores) == {"b2", "b3"}
    # b2: co-read 1 with b1, none with b4 (the best alone would say 1); b3: 1/2 with each.
    assert scores["b2"] == pytest.approx(0.5)
    assert scores["b3"] == pytest.approx(0.5)
    assert [c.item_id for c in found.candidates] == ["b2", "b3"]  # a tie in book order
    assert {c.because for c in found.candidates} <= {"b1", "b4"}


def test_a_plain_model_reader_keeps_the_trained_vector_anything_new_folds_in() -> None:
    m = model()
    assert plain_model_reader(m, Profile(user_id="u1", seen=frozenset({"b1", "b2"})))
    trained = reader_vector(m, Profile(user_id="u1"))
    assert trained is not None and np.array_equal(trained, m.user_factors[0])
    news = Profile(user_id="u1", liked=("b4",), seen=frozenset({"b1", "b2", "b4"}))
    assert not plain_model_reader(m, news)
    items = np.array([3, 0, 1])  # the new book, then the trained ones
    expected = fold_in(m.item_factors, m.gram_inverse, items, np.full(3, 1.0 + 2.0))
    assert reader_vector(m, news) == pytest.approx(expected, rel=1e-5)
    stranger = Profile(user_id="new", liked=("b3",), seen=frozenset({"b3"}))
    assert reader_vector(m, stranger) == pytest.approx(
        fold_in(m.item_factors, m.gram_inverse, np.array([2]), np.full(1, 3.0)), rel=1e-5
    )
    assert reader_vector(m, Profile(user_id="nobody")) is None


def test_als_proposes_for_a_liked_list_without_the_listed_books() -> None:
    m = model()
    found = ReaderFactors(m).personalised(Profile(liked=("b1", "b3")), 5)
    assert found is not None and found.strategy == "als"
    ids = [c.item_id for c in found.candidates]
    assert len(ids) == 3 and not {"b1", "b3"} & set(ids)
    assert ReaderFactors(m).personalised(Profile(user_id="nobody"), 5) is None


def other_source(data_dir: Path, name: str = "goodbooks", space: str = "catalog") -> None:
    """Another interactions source over the same books: its readers read b1 with b5 (which
    no reader of the model read) and b2 with b3."""
    pairs = [("r1", "b1"), ("r1", "b5"), ("r2", "b1"), ("r2", "b5"), ("r3", "b2"), ("r3", "b3")]
    rows = pa.table(
        {
            "user_id": [u for u, _ in pairs],
            "item_id": [i for _, i in pairs],
            "rating": [5.0] * len(pairs),
            "strength": [1.0] * len(pairs),
            "event": ["ingest"] * len(pairs),
            "ts": pa.array([None] * len(pairs), pa.timestamp("us")),
        },
        schema=SCHEMA,
    )
    store = SqliteStore(data_dir / "events.sqlite3")
    try:
        store.replace_source(SourceInfo(name, space), rows)
    finally:
        store.close()


def test_co_reads_of_another_source_propose_what_its_readers_read_together(tmp_path: Path) -> None:
    other_source(tmp_path)
    m = model()
    settings, rec = Settings(data_dir=tmp_path), RecommendSettings()
    [(name, source, n)] = co_reads_source(settings, rec, m, "book-crossing-goodbooks", "catalog")
    assert name == "co-reads" and n == rec.ranking.co_reads
    found = source.personalised(Profile(liked=("b1",)), 5)
    assert found is not None
    assert [c.item_id for c in found.candidates] == ["b5"]  # the model's own readers never did
    assert found.candidates[0].because == "b1"


def test_co_reads_are_left_out_where_they_would_repeat_or_cannot_be_read(tmp_path: Path) -> None:
    other_source(tmp_path)
    m, settings, rec = model(), Settings(data_dir=tmp_path), RecommendSettings()
    assert co_reads_source(settings, rec, m, "goodbooks", "catalog") == []  # item-item has them
    assert co_reads_source(settings, rec, m, "book-crossing", "book-crossing") == []
    off = rec.model_copy(update={"ranking": rec.ranking.model_copy(update={"co_reads": 0})})
    assert co_reads_source(settings, off, m, "book-crossing-goodbooks", "catalog") == []
    elsewhere = rec.model_copy(
        update={"ranking": rec.ranking.model_copy(update={"co_reads_source": "goodreads"})}
    )
    assert co_reads_source(settings, elsewhere, m, "book-crossing-goodbooks", "catalog") == []


def test_request_history_computes_a_profiles_books_once(monkeypatch: pytest.MonkeyPatch) -> None:
    m = model()
    calls: list[Profile] = []

    def counted(model: RecsModel, profile: Profile) -> np.ndarray:
        calls.append(profile)
        return history_items(model, profile)

    monkeypatch.setattr(reader_module, "history_items", counted)
    history = RequestHistory(m)
    profile = Profile(liked=("b4",), user_id="u1")
    assert history(profile).tolist() == history(profile).tolist() == [3, 0, 1]
    assert calls == [profile]
    assert history(Profile(liked=("b2",))).tolist() == [1]  # the next request
    assert len(calls) == 2


def test_liked_vectors_with_no_neighbour_in_the_store_propose_nothing() -> None:
    m = model()
    vectors = {i: np.eye(5, dtype=np.float32)[j] for j, i in enumerate(m.items.ids)}
    store = OneBookStore("b1")  # every query finds only b1 itself
    source = StoreLikedVectors(m, SourceContext(m, store, vectors.get), width=3)
    assert source.personalised(Profile(liked=("b1",)), 5) is None


def test_liked_vectors_ask_the_store_once_per_liked_book_while_its_answer_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    m = model()
    vectors = {i: np.eye(5, dtype=np.float32)[j] for j, i in enumerate(m.items.ids)}
    store = OneBookStore("b2")
    source = StoreLikedVectors(m, SourceContext(m, store, vectors.get), width=3)
    first = source.personalised(Profile(liked=("b1",)), 5)
    assert first is not None and [c.item_id for c in first.candidates] == ["b2"]
    again = source.personalised(Profile(liked=("b1",), user_id="someone else"), 5)
    assert again is not None and [c.item_id for c in again.candidates] == ["b2"]
    assert store.asked == 1  # the second reader's b1 came from the kept answer
    monkeypatch.setattr(neighbour_table, "ANCHOR_CACHE_S", 0.0)  # an answer kept no time at all
    unkept = StoreLikedVectors(m, SourceContext(m, store, vectors.get), width=3)
    unkept.personalised(Profile(liked=("b1",)), 5)
    unkept.personalised(Profile(liked=("b1",)), 5)
    assert store.asked == 3


class OneBookStore:
    """A vector store that answers every query with one book, counting the questions."""

    def __init__(self, book: str) -> None:
        self.book = book
        self.asked = 0

    def knn(self, vector: np.ndarray, k: int) -> list[Hit]:
        self.asked += 1
        return [Hit(self.book, 1.0)]
